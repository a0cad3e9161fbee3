using System.Globalization;
using System.Text;
using Broker.Core.Storage;
using Broker.Storage.Faster.Recovery;
using Broker.Storage.Faster.State;
using Microsoft.Extensions.Time.Testing;
using Xunit.Abstractions;

namespace Broker.Storage.Faster.Tests;

/// <summary>
/// KV log segment files freed by compaction go only once a durable manifest names a checkpoint that no longer needs
/// them: a crash between the KV checkpoint and the manifest write recovers from the previous checkpoint with every
/// file it needs, and files left below the begin address by a crash are harmless and deleted by the next checkpoint.
/// </summary>
public sealed class KvTruncationCrashTests(ITestOutputHelper output)
{
    private const int SegmentBits = 16;
    private const int Keys = 100;
    private const int Rounds = 300;
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(60);
    private static readonly DateTimeOffset Start = new(2026, 11, 26, 12, 0, 0, TimeSpan.Zero);

    [Fact]
    public async Task CheckpointAsync_CrashAfterCompactedKvCheckpointBeforeManifestWrite_KeepsNeededSegmentsAndRecoversLatestValues()
    {
        using var dir = new TempDirectory();
        using var crashImage = new TempDirectory();
        var options = CompactingOptions(dir.Path);
        var kvFolder = Path.Combine(dir.Path, "p00", "kv");
        var imageKvFolder = Path.Combine(crashImage.Path, "p00", "kv");
        Guid previousToken;
        long previousBegin = 0;
        long crashBegin = 0;
        (int Count, long Bytes, string[] Names) beforeCrash;
        (int Count, long Bytes, string[] Names) atCrash = (0, 0, []);

        await using (var store = FasterHubStore.Open(options, null, new FakeTimeProvider(Start)))
        {
            var state = store.GetPartition(0).State;
            var kv = store.Partition(0).StateStore;

            // The checkpoint the manifest will still name at the crash (itself compacted, so its log begins past 0).
            await WriteRoundsAsync(state, 0, Rounds / 2);
            await store.CheckpointAsync().AsTask().WaitAsync(Bound);
            previousToken = ManifestFile.TryRead(Path.Combine(dir.Path, "p00"))!.CheckpointToken!.Value;
            previousBegin = kv.KvBeginAddress;
            await FileDeletion.WaitForSegmentsBelowAsync(kvFolder, "kv", previousBegin >> SegmentBits, Bound);

            await WriteRoundsAsync(state, Rounds / 2, Rounds);
            beforeCrash = StoreFiles.Segments(kvFolder, "kv");
            output.WriteLine($"checkpoint 1 ({previousToken}) begins at {previousBegin}; before checkpoint 2: KV log spans {kv.KvLogSpan} bytes, {Describe(beforeCrash)}");
            Assert.True(kv.KvLogSpan > options.StateStore.CompactionThresholdBytes);

            store.Partition(0).BeforeManifestWrite = async _ =>
            {
                // Compaction has moved the begin address and the KV checkpoint has asked the device to delete the
                // segments below it; the manifest still names checkpoint 1, which needs them.
                crashBegin = kv.KvBeginAddress;
                await WaitForTruncationRequestAsync(kv.KvDevice, crashBegin);
                Assert.True(kv.KvDevice.TruncatedUntilAddress <= previousBegin,
                    $"truncated to {kv.KvDevice.TruncatedUntilAddress}, past checkpoint 1's begin {previousBegin}");
                atCrash = StoreFiles.Segments(kvFolder, "kv");
                CopyDirectory(dir.Path, crashImage.Path);
                throw new SimulatedCrashException();
            };

            await Assert.ThrowsAsync<SimulatedCrashException>(() => store.CheckpointAsync().AsTask().WaitAsync(Bound));
            output.WriteLine($"at the crash: checkpoint 2 begins at {crashBegin}, deletion requested below {kv.KvDevice.RequestedUntilAddress}; {Describe(atCrash)}");
            Assert.True(crashBegin >> SegmentBits > previousBegin >> SegmentBits, "compaction freed no whole segment");
            Assert.Equal(previousToken, ManifestFile.TryRead(Path.Combine(dir.Path, "p00"))!.CheckpointToken);
            Assert.Empty(beforeCrash.Names.Except(atCrash.Names));
            for (long segment = previousBegin >> SegmentBits; segment < crashBegin >> SegmentBits; segment++)
            {
                Assert.True(File.Exists(Path.Combine(imageKvFolder, $"kv.log.{segment}")), $"kv.log.{segment}, needed by checkpoint 1, was deleted");
            }

            // The store lives on: its next checkpoint succeeds and deletes what compaction freed.
            store.Partition(0).BeforeManifestWrite = null;
            await store.CheckpointAsync().AsTask().WaitAsync(Bound);
            Assert.NotEqual(previousToken, ManifestFile.TryRead(Path.Combine(dir.Path, "p00"))!.CheckpointToken);
            await FileDeletion.WaitForSegmentsBelowAsync(kvFolder, "kv", kv.KvBeginAddress >> SegmentBits, Bound);
            var after = StoreFiles.Segments(kvFolder, "kv");
            output.WriteLine($"after the next checkpoint: begins at {kv.KvBeginAddress}; {Describe(after)}");
            Assert.True(after.Count < atCrash.Count, $"{after.Count} files after, {atCrash.Count} at the crash");
            Assert.True(after.Bytes < atCrash.Bytes, $"{after.Bytes} bytes after, {atCrash.Bytes} at the crash");
            AssertLatest(state);
        }

        await using (var store = FasterHubStore.Open(options, null, new FakeTimeProvider(Start)))
        {
            AssertLatest(store.GetPartition(0).State);
        }

        // The crash image: the manifest names checkpoint 1, whose segments are all there.
        var imageOptions = CompactingOptions(crashImage.Path);
        var logs = new ListLoggerFactory();
        await using (var store = FasterHubStore.Open(imageOptions, logs, new FakeTimeProvider(Start)))
        {
            Assert.Contains(logs.Messages, m => m.Message.Contains($"checkpoint {previousToken}", StringComparison.Ordinal));
            var state = store.GetPartition(0).State;
            AssertLatest(state);
            var scan = new StateCollector();
            state.Scan(StateRecordKind.Twin, "key"u8, scan);
            Assert.Equal(Keys, scan.Records.Count);

            // Its first checkpoint compacts again and deletes the segments checkpoint 1 needed.
            var kv = store.Partition(0).StateStore;
            await store.CheckpointAsync().AsTask().WaitAsync(Bound);
            await FileDeletion.WaitForSegmentsBelowAsync(imageKvFolder, "kv", kv.KvBeginAddress >> SegmentBits, Bound);
            var after = StoreFiles.Segments(imageKvFolder, "kv");
            output.WriteLine($"crash image after its first checkpoint: begins at {kv.KvBeginAddress}; {Describe(after)}");
            Assert.True(kv.KvBeginAddress >> SegmentBits > previousBegin >> SegmentBits);
            Assert.True(after.Count < atCrash.Count, $"{after.Count} files after, {atCrash.Count} at the crash");
            AssertLatest(state);
        }

        await using (var store = FasterHubStore.Open(imageOptions, null, new FakeTimeProvider(Start)))
        {
            AssertLatest(store.GetPartition(0).State);
        }
    }

    [Fact]
    public async Task Open_SegmentsBelowBeginLeftByACrashBeforeTheirDeletion_RecoversAndNextCheckpointDeletesThem()
    {
        using var dir = new TempDirectory();
        using var stash = new TempDirectory();
        var options = CompactingOptions(dir.Path);
        var kvFolder = Path.Combine(dir.Path, "p00", "kv");
        long begin;
        string[] leftOver;
        await using (var store = FasterHubStore.Open(options, null, new FakeTimeProvider(Start)))
        {
            var state = store.GetPartition(0).State;
            var kv = store.Partition(0).StateStore;
            await WriteRoundsAsync(state, 0, Rounds);
            foreach (var file in Directory.GetFiles(kvFolder, "kv.log.*"))
            {
                File.Copy(file, Path.Combine(stash.Path, Path.GetFileName(file)));
            }

            await store.CheckpointAsync().AsTask().WaitAsync(Bound);
            begin = kv.KvBeginAddress;
            await FileDeletion.WaitForSegmentsBelowAsync(kvFolder, "kv", begin >> SegmentBits, Bound);
            Assert.Equal(begin, kv.KvDevice.TruncatedUntilAddress);
        }

        // A crash after the manifest write but before the deletions: the freed files are still there.
        leftOver = [.. Directory.GetFiles(stash.Path).Select(Path.GetFileName).Where(name => Segment(name!) < begin >> SegmentBits)!];
        Assert.NotEmpty(leftOver);
        foreach (var name in leftOver)
        {
            File.Copy(Path.Combine(stash.Path, name), Path.Combine(kvFolder, name));
        }

        var withLeftOvers = StoreFiles.Segments(kvFolder, "kv");
        output.WriteLine($"begin {begin}; restored {leftOver.Length} freed files: {Describe(withLeftOvers)}");
        await using (var store = FasterHubStore.Open(options, null, new FakeTimeProvider(Start)))
        {
            var state = store.GetPartition(0).State;
            var kv = store.Partition(0).StateStore;
            AssertLatest(state);
            Assert.Equal(begin, kv.KvBeginAddress);
            Assert.Equal(leftOver.Min(Segment), kv.KvDevice.StartSegment);

            await store.CheckpointAsync().AsTask().WaitAsync(Bound);
            await FileDeletion.WaitForSegmentsBelowAsync(kvFolder, "kv", kv.KvBeginAddress >> SegmentBits, Bound);
            var after = StoreFiles.Segments(kvFolder, "kv");
            output.WriteLine($"after the next checkpoint: begins at {kv.KvBeginAddress}; {Describe(after)}");
            Assert.Empty(leftOver.Intersect(after.Names));
            Assert.True(after.Bytes < withLeftOvers.Bytes);
            AssertLatest(state);
        }

        await using (var store = FasterHubStore.Open(options, null, new FakeTimeProvider(Start)))
        {
            AssertLatest(store.GetPartition(0).State);
        }
    }

    private static FasterStoreOptions CompactingOptions(string directory)
    {
        var options = TestStores.SmallOptions(directory, partitions: 1);
        options.CheckpointInterval = TimeSpan.FromDays(30); // only the explicit checkpoints run
        options.StateStore = new StateStoreSizes
        {
            IndexBytes = 1 << 16,
            MemoryBytes = 1 << 17,
            PageBytes = 1 << 14,
            SegmentBytes = 1 << SegmentBits,
            CompactionThresholdBytes = 1 << 18,
        };
        return options;
    }

    /// <summary>Writes every key once per round and waits until the last write is acknowledged (durable).</summary>
    private static async Task WriteRoundsAsync(IStateStore state, int from, int to)
    {
        long last = 0;
        for (int round = from; round < to; round++)
        {
            for (int k = 0; k < Keys; k++)
            {
                last = state.Put(StateRecordKind.Twin, $"key{k:D3}", Value(k, round));
            }
        }

        await state.WaitDurableAsync(last).AsTask().WaitAsync(Bound);
    }

    /// <summary>Each round's value is longer than the last, so FASTER cannot update in place and appends a new record.</summary>
    private static string Value(int key, int round) => $"key {key} round {round} " + new string('v', 20 + round + (key % 8));

    private static void AssertLatest(IStateStore state)
    {
        for (int k = 0; k < Keys; k++)
        {
            Assert.Equal(Value(k, Rounds - 1), Encoding.UTF8.GetString(state.Read(StateRecordKind.Twin, $"key{k:D3}")!));
        }
    }

    /// <summary>Waits, without polling, until FASTER has asked the device to delete the log below <paramref name="address"/>.</summary>
    private static async Task WaitForTruncationRequestAsync(DeferredTruncationDevice device, long address)
    {
        var requested = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        void OnRequested(long until)
        {
            if (until >= address)
            {
                requested.TrySetResult();
            }
        }

        device.TruncationRequested += OnRequested; // subscribe first, then look, so no request goes unseen
        try
        {
            OnRequested(device.RequestedUntilAddress);
            await requested.Task.WaitAsync(Bound);
        }
        finally
        {
            device.TruncationRequested -= OnRequested;
        }
    }

    private static long Segment(string fileName) => long.Parse(Path.GetExtension(fileName).AsSpan(1), CultureInfo.InvariantCulture);

    private static string Describe((int Count, long Bytes, string[] Names) files)
        => $"{files.Count} kv.log files, {files.Bytes} bytes (segments {files.Names.Select(Segment).Min()}..{files.Names.Select(Segment).Max()})";

    private static void CopyDirectory(string from, string to)
    {
        foreach (var directory in Directory.GetDirectories(from, "*", SearchOption.AllDirectories))
        {
            Directory.CreateDirectory(Path.Combine(to, Path.GetRelativePath(from, directory)));
        }

        foreach (var file in Directory.GetFiles(from, "*", SearchOption.AllDirectories))
        {
            File.Copy(file, Path.Combine(to, Path.GetRelativePath(from, file)), overwrite: true);
        }
    }

    private sealed class SimulatedCrashException() : Exception("simulated crash between the KV checkpoint and the manifest write");
}
