using System.Text;
using Broker.Core.Storage;

namespace Broker.Storage.Faster.Tests;

public sealed class StoreRoundTripTests
{
    public static TheoryData<StateRecordKind> Kinds => new(Enum.GetValues<StateRecordKind>());

    [Theory]
    [MemberData(nameof(Kinds))]
    public async Task Upsert_EveryRecordKind_ReadsBackAfterCleanReopen(StateRecordKind kind)
    {
        using var dir = new TempDirectory();
        var options = TestStores.SmallOptions(dir.Path);
        await using (var store = TestStores.Open(options))
        {
            var state = store.GetPartitionFor("device-1").State;
            long address = state.Put(kind, "device-1", $"value of {kind}");
            state.Put(kind, "device-1/other", "second");
            state.Put(kind, "gone", "deleted below");
            long deleted = state.Delete(kind, Encoding.UTF8.GetBytes("gone"));
            await state.WaitDurableAsync(Math.Max(address, deleted));
            Assert.Equal($"value of {kind}", Encoding.UTF8.GetString(state.Read(kind, "device-1")!));
        }

        await using (var store = TestStores.Open(options))
        {
            var state = store.GetPartitionFor("device-1").State;
            Assert.Equal($"value of {kind}", Encoding.UTF8.GetString(state.Read(kind, "device-1")!));
            Assert.Null(state.Read(kind, "gone"));
            var scan = new StateCollector();
            state.Scan(kind, Encoding.UTF8.GetBytes("device-1"), scan);
            Assert.Equal(["device-1", "device-1/other"], scan.Records.Keys.Order());
        }
    }

    [Fact]
    public async Task Upsert_ValueLargerThanAStateLogPage_IsRefusedAndTheStoreKeepsServing()
    {
        using var dir = new TempDirectory();
        var options = TestStores.SmallOptions(dir.Path, partitions: 1);
        await using var store = TestStores.Open(options);
        var state = store.GetPartition(0).State;
        var tooLarge = new byte[(1 << options.StateLog.PageSizeBits) + 1];

        Assert.Throws<ArgumentException>(() => state.Upsert(StateRecordKind.Twin, Encoding.UTF8.GetBytes("big"), tooLarge));

        long address = state.Put(StateRecordKind.Twin, "small", "still written");
        await state.WaitDurableAsync(address).AsTask().WaitAsync(TimeSpan.FromSeconds(30));
        Assert.Equal("still written", Encoding.UTF8.GetString(state.Read(StateRecordKind.Twin, "small")!));
        Assert.Null(state.Read(StateRecordKind.Twin, "big"));
    }

    [Fact]
    public async Task Append_Telemetry_ReadsBackInOrderWithSequenceAndOffsetsAfterReopen()
    {
        using var dir = new TempDirectory();
        var options = TestStores.SmallOptions(dir.Path, partitions: 1);
        var appended = new List<TelemetryAppend>();
        await using (var store = TestStores.Open(options))
        {
            var events = store.GetPartition(0).Events;
            for (int i = 0; i < 2000; i++)
            {
                appended.Add(events.Append(Encoding.UTF8.GetBytes($"event {i} " + new string('x', i % 300))));
            }

            await events.WaitDurableAsync(appended[^1].EndAddress);
            Assert.True(events.DurableAddress >= appended[^1].EndAddress);
        }

        await using (var store = TestStores.Open(options))
        {
            var events = store.GetPartition(0).Events;
            var read = EventCollector.ReadAll(events);
            Assert.Equal(2000, read.Count);
            for (int i = 0; i < read.Count; i++)
            {
                Assert.Equal(i, read[i].Sequence);
                Assert.Equal(appended[i].Offset, read[i].Offset);
                Assert.StartsWith($"event {i} ", Encoding.UTF8.GetString(read[i].Body));
            }

            Assert.Equal(2000, events.NextSequenceNumber);
            var next = events.Append("after reopen"u8);
            Assert.Equal(2000, next.SequenceNumber);
        }
    }
}
