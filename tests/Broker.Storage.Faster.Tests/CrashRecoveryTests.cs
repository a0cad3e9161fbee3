using System.Globalization;
using System.Text;
using Broker.Core.Storage;
using Xunit.Abstractions;

namespace Broker.Storage.Faster.Tests;

public sealed class CrashRecoveryTests(ITestOutputHelper output)
{
    private const int Rounds = 20;

    [Fact]
    public async Task Sigkill_AtRandomMoments_EveryAcknowledgedRecordSurvivesInOrder()
    {
        using var dir = new TempDirectory();
        using var bound = new CancellationTokenSource(TimeSpan.FromMinutes(5));
        var random = new Random(20261126);
        var ackedEvents = new Dictionary<int, long>();
        var ackedState = new Dictionary<string, long>();
        long totalAcks = 0;

        for (int round = 0; round < Rounds; round++)
        {
            // Mostly early kills, some late enough for background checkpoints to have run.
            int killAfter = round % 4 == 3 ? random.Next(20_000, 60_000) : random.Next(1, 5_000);
            IReadOnlyList<string> lines;
            using (var worker = new CrashWorkerProcess(dir.Path, killAfter))
            {
                await worker.ReachedTarget.WaitAsync(bound.Token);
                Assert.False(worker.HasExited && !worker.StandardError.Contains("Killed", StringComparison.Ordinal) && worker.StandardError.Length > 0,
                    $"worker failed: {worker.StandardError}");
                lines = await worker.KillAsync(bound.Token);
                Assert.True(string.IsNullOrEmpty(worker.StandardError), worker.StandardError);
            }

            Assert.Contains("READY", lines);
            foreach (var line in lines)
            {
                var parts = line.Split(' ');
                if (parts[0] == "E")
                {
                    int partition = int.Parse(parts[1], CultureInfo.InvariantCulture);
                    long n = long.Parse(parts[2], CultureInfo.InvariantCulture);
                    ackedEvents[partition] = Math.Max(ackedEvents.GetValueOrDefault(partition, -1), n);
                    totalAcks++;
                }
                else if (parts[0] == "S")
                {
                    ackedState[parts[1]] = Math.Max(ackedState.GetValueOrDefault(parts[1], -1), long.Parse(parts[2], CultureInfo.InvariantCulture));
                    totalAcks++;
                }
            }

            await VerifyAsync(dir.Path, ackedEvents, ackedState, output);
            output.WriteLine($"round {round}: killed after {killAfter} acks; events acked up to {string.Join(", ", ackedEvents.OrderBy(e => e.Key).Select(e => $"p{e.Key}={e.Value}"))}");
        }

        Assert.True(totalAcks > Rounds, "the worker acknowledged almost nothing");
        Assert.NotNull(Broker.Storage.Faster.Recovery.ManifestFile.TryRead(Path.Combine(dir.Path, "p00"))?.CheckpointToken); // recovery from a checkpoint was exercised
    }

    private static async Task VerifyAsync(string directory, Dictionary<int, long> ackedEvents, Dictionary<string, long> ackedState, ITestOutputHelper output)
    {
        var options = new FasterStoreOptions { DataDirectory = directory, PartitionCount = 2, CheckpointInterval = TimeSpan.FromHours(1),
            EventsLog = new LogSizes { PageSizeBits = 14, MemorySizeBits = 17, SegmentSizeBits = 18 },
            StateLog = new LogSizes { PageSizeBits = 14, MemorySizeBits = 16, SegmentSizeBits = 18 },
            StateStore = new StateStoreSizes { IndexBytes = 1 << 16, MemoryBytes = 1 << 20, PageBytes = 1 << 14, SegmentBytes = 1 << 18 } };
        var logs = new ListLoggerFactory();
        await using var store = FasterHubStore.Open(options, logs);
        foreach (var (level, message) in logs.Messages)
        {
            output.WriteLine($"{level}: {message}");
        }

        for (int p = 0; p < store.PartitionCount; p++)
        {
            var events = EventCollector.ReadAll(store.GetPartition(p).Events);
            for (int i = 0; i < events.Count; i++)
            {
                var body = Encoding.UTF8.GetString(events[i].Body).Split(':');
                Assert.Equal(p.ToString(CultureInfo.InvariantCulture), body[0]);
                Assert.Equal(i, long.Parse(body[1], CultureInfo.InvariantCulture)); // dense and in order
                Assert.Equal(i, events[i].Sequence);
            }

            long acked = ackedEvents.GetValueOrDefault(p, -1);
            Assert.True(events.Count > acked, $"partition {p}: {events.Count} events recovered but event {acked} was acknowledged");
        }

        foreach (var (key, value) in ackedState)
        {
            long recovered = -1;
            for (int p = 0; p < store.PartitionCount; p++)
            {
                if (store.GetPartition(p).State.Read(StateRecordKind.Twin, key) is { } bytes)
                {
                    recovered = Math.Max(recovered, long.Parse(Encoding.UTF8.GetString(bytes), CultureInfo.InvariantCulture));
                }
            }

            Assert.True(recovered >= value, $"state {key}: recovered {recovered} but {value} was acknowledged");
        }
    }
}
