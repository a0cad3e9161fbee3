using System.Text.Json.Nodes;
using Broker.Core.Storage;
using Microsoft.Extensions.Time.Testing;

namespace Broker.Storage.Faster.Tests;

/// <summary>
/// A log's records never straddle a page and its segment files are numbered by segment size, so a store must be
/// reopened with the page and segment sizes it was written with, whatever the configuration (or the defaults) say now.
/// </summary>
public sealed class LogLayoutTests
{
    [Fact]
    public async Task Reopen_WithOtherPageAndSegmentSizes_KeepsTheLayoutTheStoreWasCreatedWith()
    {
        using var dir = new TempDirectory();
        var created = TestStores.SmallOptions(dir.Path, partitions: 1); // 16 KiB pages, 64 KiB segments
        int written = await AppendAcrossPagesAsync(created, count: 60, bodyBytes: 3000); // 5 per page, a gap at each page end

        var reopened = TestStores.SmallOptions(dir.Path, partitions: 1);
        reopened.EventsLog = new LogSizes { PageSizeBits = 16, MemorySizeBits = 18, SegmentSizeBits = 20 };
        reopened.StateLog = new LogSizes { PageSizeBits = 15, MemorySizeBits = 17, SegmentSizeBits = 18 };
        await using (var store = TestStores.Open(reopened))
        {
            AssertDenseAndInOrder(store.GetPartition(0).Events, written);
        }

        var layout = JsonNode.Parse(File.ReadAllText(Path.Combine(dir.Path, "store.json")))!;
        Assert.Equal(14, (int)layout["EventsLog"]!["PageSizeBits"]!);
        Assert.Equal(16, (int)layout["EventsLog"]!["SegmentSizeBits"]!);
        Assert.Equal(14, (int)layout["StateLog"]!["PageSizeBits"]!);
    }

    [Fact]
    public async Task Reopen_StoreFromBeforeLayoutsWereRecorded_UsesThePreviousDefaults()
    {
        using var dir = new TempDirectory();
        var old = TestStores.SmallOptions(dir.Path, partitions: 1);
        old.EventsLog = new LogSizes { PageSizeBits = 20, MemorySizeBits = 22, SegmentSizeBits = 26 }; // the defaults of that time
        old.StateLog = new LogSizes { PageSizeBits = 18, MemorySizeBits = 21, SegmentSizeBits = 24 };
        int written = await AppendAcrossPagesAsync(old, count: 300, bodyBytes: 4000); // past the first 1 MiB page, with a gap

        var path = Path.Combine(dir.Path, "store.json");
        var descriptor = JsonNode.Parse(File.ReadAllText(path))!.AsObject();
        descriptor.Remove("EventsLog");
        descriptor.Remove("StateLog");
        File.WriteAllText(path, descriptor.ToJsonString());

        var today = new FasterStoreOptions { DataDirectory = dir.Path, CheckpointInterval = TimeSpan.FromHours(1) }; // today's defaults
        Assert.NotEqual(20, today.EventsLog.PageSizeBits);
        await using (var store = FasterHubStore.Open(today, null, new FakeTimeProvider(TestStores.Start)))
        {
            AssertDenseAndInOrder(store.GetPartition(0).Events, written);
        }

        var recorded = JsonNode.Parse(File.ReadAllText(path))!;
        Assert.Equal(20, (int)recorded["EventsLog"]!["PageSizeBits"]!);
        Assert.Equal(26, (int)recorded["EventsLog"]!["SegmentSizeBits"]!);
        Assert.Equal(18, (int)recorded["StateLog"]!["PageSizeBits"]!);
    }

    private static async Task<int> AppendAcrossPagesAsync(FasterStoreOptions options, int count, int bodyBytes)
    {
        await using var store = TestStores.Open(options);
        var events = store.GetPartition(0).Events;
        var body = new byte[bodyBytes];
        long end = 0;
        for (int i = 0; i < count; i++)
        {
            BitConverter.TryWriteBytes(body, i);
            end = events.Append(body).EndAddress;
        }

        await events.WaitDurableAsync(end).AsTask().WaitAsync(TimeSpan.FromSeconds(30));
        return count;
    }

    private static void AssertDenseAndInOrder(ITelemetryLog log, int expected)
    {
        var events = EventCollector.ReadAll(log);
        Assert.Equal(expected, events.Count);
        for (int i = 0; i < events.Count; i++)
        {
            Assert.Equal(i, BitConverter.ToInt32(events[i].Body));
        }
    }
}
