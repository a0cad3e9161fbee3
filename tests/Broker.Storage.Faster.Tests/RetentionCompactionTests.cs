using System.Text;
using Broker.Core.Storage;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Time.Testing;
using Xunit.Abstractions;

namespace Broker.Storage.Faster.Tests;

/// <summary>
/// Disk is given back: retention deletes events-log segments older than the retention period (held back by the
/// slowest named reader), compaction shrinks the state KV log, and the watchdog reports a checkpoint that hangs.
/// FASTER deletes freed segment files on a background task after the commit or checkpoint that frees them, so the
/// tests wait for those deletions (file-system events, bounded), never by sleeping.
/// </summary>
public sealed class RetentionCompactionTests(ITestOutputHelper output)
{
    private const int SegmentBits = 16;
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(60);
    private static readonly DateTimeOffset Start = new(2026, 11, 26, 12, 0, 0, TimeSpan.Zero);

    [Fact]
    public async Task CheckpointAsync_EventsOlderThanRetention_DeletesTheirSegmentsAndKeepsNewerEvents()
    {
        using var dir = new TempDirectory();
        var options = RetentionOptions(dir.Path);
        var time = new FakeTimeProvider(Start);
        var logs = new ListLoggerFactory();
        var eventsFolder = Path.Combine(dir.Path, "p00", "events");
        await using var store = FasterHubStore.Open(options, logs, time);
        var events = store.GetPartition(0).Events;

        var old = await AppendAsync(events, 3000, "old");
        var before = StoreFiles.Segments(eventsFolder, "events");
        output.WriteLine($"before: {before.Count} files, {before.Bytes} bytes: {string.Join(" ", before.Names)}");
        Assert.True(before.Count >= 8, $"only {before.Count} segment files");

        time.Advance(options.Retention + TimeSpan.FromMinutes(1));
        var fresh = await AppendAsync(events, 10, "fresh");
        Assert.Equal(old.Count, fresh[0].SequenceNumber);
        await store.CheckpointAsync().AsTask().WaitAsync(Bound);

        Assert.Equal(fresh[0].Offset, events.BeginOffset);
        await FileDeletion.WaitForSegmentsBelowAsync(eventsFolder, "events", events.BeginOffset >> SegmentBits, Bound);
        var after = StoreFiles.Segments(eventsFolder, "events");
        output.WriteLine($"after:  {after.Count} files, {after.Bytes} bytes: {string.Join(" ", after.Names)}");
        Assert.True(after.Count < before.Count, $"{after.Count} files after, {before.Count} before");
        Assert.True(after.Bytes < before.Bytes, $"{after.Bytes} bytes after, {before.Bytes} before");
        Assert.Equal((int)((fresh[^1].EndAddress - 1) >> SegmentBits) - (int)(fresh[0].Offset >> SegmentBits) + 1, after.Count);

        AssertEvents(EventCollector.ReadAll(events), fresh, "fresh", firstBodyIndex: 0);
        Assert.Contains(logs.Messages, m => m.Message.Contains($"retention truncated the events log below {fresh[0].Offset}", StringComparison.Ordinal));
    }

    [Fact]
    public async Task CheckpointAsync_NamedReaderBehindRetention_KeepsSegmentsFromItsPositionUntilItIsDeleted()
    {
        using var dir = new TempDirectory();
        var options = RetentionOptions(dir.Path);
        var time = new FakeTimeProvider(Start);
        var eventsFolder = Path.Combine(dir.Path, "p00", "events");
        await using var store = FasterHubStore.Open(options, null, time);
        var events = store.GetPartition(0).Events;
        var state = store.GetPartition(0).State;

        var old = await AppendAsync(events, 3000, "old");
        const int readerAt = 1500;
        long position = old[readerAt].Offset;
        await state.WaitDurableAsync(events.SetReaderPosition("cg1", position)).AsTask().WaitAsync(Bound);
        var before = StoreFiles.Segments(eventsFolder, "events");
        output.WriteLine($"before: {before.Count} files, {before.Bytes} bytes: {string.Join(" ", before.Names)}");

        time.Advance(options.Retention + TimeSpan.FromMinutes(1));
        var fresh = await AppendAsync(events, 10, "fresh");
        await store.CheckpointAsync().AsTask().WaitAsync(Bound);

        // Retention stops at the reader: the segments from its position on stay, the ones before it go.
        Assert.Equal(position, events.BeginOffset);
        long readerSegment = position >> SegmentBits;
        await FileDeletion.WaitForSegmentsBelowAsync(eventsFolder, "events", readerSegment, Bound);
        var held = StoreFiles.Segments(eventsFolder, "events");
        output.WriteLine($"held by cg1 at {position}: {held.Count} files, {held.Bytes} bytes: {string.Join(" ", held.Names)}");
        for (long segment = readerSegment; segment <= (fresh[^1].EndAddress - 1) >> SegmentBits; segment++)
        {
            Assert.True(File.Exists(Path.Combine(eventsFolder, $"events.log.{segment}")), $"events.log.{segment} was deleted under the reader");
        }

        var readable = EventCollector.ReadAll(events);
        Assert.Equal(old.Count - readerAt + fresh.Count, readable.Count);
        AssertEvents(readable.Take(old.Count - readerAt).ToList(), old.Skip(readerAt).ToList(), "old", firstBodyIndex: readerAt);
        AssertEvents(readable.Skip(old.Count - readerAt).ToList(), fresh, "fresh", firstBodyIndex: 0);
        Assert.True(held.Bytes < before.Bytes);

        await state.WaitDurableAsync(events.DeleteReader("cg1")).AsTask().WaitAsync(Bound);
        await store.CheckpointAsync().AsTask().WaitAsync(Bound);
        Assert.Equal(fresh[0].Offset, events.BeginOffset);
        await FileDeletion.WaitForSegmentsBelowAsync(eventsFolder, "events", fresh[0].Offset >> SegmentBits, Bound);
        var after = StoreFiles.Segments(eventsFolder, "events");
        output.WriteLine($"after DeleteReader: {after.Count} files, {after.Bytes} bytes: {string.Join(" ", after.Names)}");
        Assert.True(after.Count < held.Count);
        Assert.True(after.Bytes < held.Bytes);
        AssertEvents(EventCollector.ReadAll(events), fresh, "fresh", firstBodyIndex: 0);
    }

    [Fact]
    public async Task CheckpointAsync_KvLogOverCompactionThreshold_CompactsToFewerBytesAndKeepsLatestValues()
    {
        using var dir = new TempDirectory();
        var options = TestStores.SmallOptions(dir.Path, partitions: 1);
        options.CheckpointInterval = TimeSpan.FromDays(30);
        options.StateStore = new StateStoreSizes
        {
            IndexBytes = 1 << 16,
            MemoryBytes = 1 << 17,
            PageBytes = 1 << 14,
            SegmentBytes = 1 << SegmentBits,
            CompactionThresholdBytes = 1 << 18,
        };
        const int keys = 100;
        const int rounds = 300;
        var kvFolder = Path.Combine(dir.Path, "p00", "kv");
        var logs = new ListLoggerFactory();
        (int Count, long Bytes, string[] Names) before;
        (int Count, long Bytes, string[] Names) after;
        await using (var store = FasterHubStore.Open(options, logs, new FakeTimeProvider(Start)))
        {
            var state = store.GetPartition(0).State;
            long last = 0;
            for (int round = 0; round < rounds; round++)
            {
                for (int k = 0; k < keys; k++)
                {
                    last = state.Put(StateRecordKind.Twin, $"key{k:D3}", Value(k, round));
                }
            }

            await state.WaitDurableAsync(last).AsTask().WaitAsync(Bound);
            var kv = store.Partition(0).StateStore;
            before = StoreFiles.Segments(kvFolder, "kv");
            long spanBefore = kv.KvLogSpan;
            output.WriteLine($"before: KV log spans {spanBefore} bytes; {before.Count} files, {before.Bytes} bytes on disk");
            Assert.True(spanBefore > options.StateStore.CompactionThresholdBytes);

            await store.CheckpointAsync().AsTask().WaitAsync(Bound);
            await FileDeletion.WaitForSegmentsBelowAsync(kvFolder, "kv", kv.KvBeginAddress >> SegmentBits, Bound);
            after = StoreFiles.Segments(kvFolder, "kv");
            output.WriteLine($"after:  KV log spans {kv.KvLogSpan} bytes from {kv.KvBeginAddress}; {after.Count} files, {after.Bytes} bytes on disk");
            Assert.True(kv.KvLogSpan < spanBefore);
            Assert.True(after.Count < before.Count, $"{after.Count} files after, {before.Count} before");
            Assert.True(after.Bytes < before.Bytes, $"{after.Bytes} bytes after, {before.Bytes} before");
            Assert.Contains(logs.Messages, m => m.Message.Contains("compacted the state store", StringComparison.Ordinal));
            AssertLatest(state, keys, rounds);
        }

        await using (var store = FasterHubStore.Open(options, null, new FakeTimeProvider(Start)))
        {
            AssertLatest(store.GetPartition(0).State, keys, rounds);
            var scan = new StateCollector();
            store.GetPartition(0).State.Scan(StateRecordKind.Twin, "key"u8, scan);
            Assert.Equal(keys, scan.Records.Count);
        }
    }

    [Fact]
    public async Task CheckpointAsync_HookHangsPastWatchdog_CountsStuckCheckpointLogsWarningThenCompletes()
    {
        using var dir = new TempDirectory();
        var options = TestStores.SmallOptions(dir.Path, partitions: 1);
        options.CheckpointInterval = TimeSpan.FromDays(30);
        options.CheckpointWatchdog = TimeSpan.FromMinutes(1);
        var time = new FakeTimeProvider(Start);
        var logs = new SignalingLoggerFactory("has not finished");
        await using var store = FasterHubStore.Open(options, logs, time);
        var end = store.GetPartition(0).State.Put(StateRecordKind.Twin, "k", "v");
        await store.GetPartition(0).State.WaitDurableAsync(end).AsTask().WaitAsync(Bound);

        var entered = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var release = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        store.Partition(0).BeforeCheckpoint = async cancellationToken =>
        {
            entered.TrySetResult();
            await release.Task.WaitAsync(cancellationToken).ConfigureAwait(false);
        };

        var checkpoint = store.CheckpointAsync().AsTask();
        // The hook runs before CheckpointAsync yields, and the watchdog's delay is set up on that same path: once
        // the hook has been entered and CheckpointAsync has returned, advancing the clock reaches the watchdog.
        await entered.Task.WaitAsync(Bound);
        Assert.False(checkpoint.IsCompleted);
        Assert.Equal(0, store.StuckCheckpoints);

        time.Advance(TimeSpan.FromSeconds(59));
        Assert.Equal(0, store.StuckCheckpoints);
        time.Advance(TimeSpan.FromSeconds(1));
        var warning = await logs.Matched.WaitAsync(Bound);
        output.WriteLine(warning.Message);
        Assert.Equal(LogLevel.Warning, warning.Level);
        Assert.Contains("Checkpoint of partition 0 has not finished after 60 s", warning.Message, StringComparison.Ordinal);
        Assert.Equal(1, store.StuckCheckpoints);
        Assert.False(checkpoint.IsCompleted);

        release.SetResult();
        await checkpoint.WaitAsync(Bound);
        Assert.Equal(1, store.StuckCheckpoints);
        Assert.NotNull(Recovery.ManifestFile.TryRead(Path.Combine(dir.Path, "p00"))?.CheckpointToken);
    }

    private static FasterStoreOptions RetentionOptions(string directory)
    {
        var options = TestStores.SmallOptions(directory, partitions: 1);
        options.EventsLog = new LogSizes { PageSizeBits = 13, MemorySizeBits = 15, SegmentSizeBits = SegmentBits };
        options.Retention = TimeSpan.FromHours(1);
        options.CheckpointInterval = TimeSpan.FromDays(30); // only the explicit checkpoints run
        return options;
    }

    /// <summary>Each round's value is longer than the last, so FASTER cannot update in place and appends a new record.</summary>
    private static string Value(int key, int round) => $"key {key} round {round} " + new string('v', 20 + round + (key % 8));

    private static void AssertLatest(IStateStore state, int keys, int rounds)
    {
        for (int k = 0; k < keys; k++)
        {
            Assert.Equal(Value(k, rounds - 1), Encoding.UTF8.GetString(state.Read(StateRecordKind.Twin, $"key{k:D3}")!));
        }
    }

    private static byte[] EventBody(string label, int i) => Encoding.UTF8.GetBytes($"{label} {i:D5} " + new string('e', 100 + (i % 50)));

    private static async Task<List<TelemetryAppend>> AppendAsync(ITelemetryLog events, int count, string label)
    {
        var appended = new List<TelemetryAppend>(count);
        for (int i = 0; i < count; i++)
        {
            appended.Add(events.Append(EventBody(label, i)));
        }

        await events.WaitDurableAsync(appended[^1].EndAddress).AsTask().WaitAsync(Bound);
        return appended;
    }

    /// <summary>The events read are exactly <paramref name="expected"/>: offsets, dense sequence numbers, bodies.</summary>
    private static void AssertEvents(List<(long Offset, long Sequence, long Ticks, byte[] Body)> read, List<TelemetryAppend> expected, string label, int firstBodyIndex)
    {
        Assert.Equal(expected.Count, read.Count);
        for (int i = 0; i < read.Count; i++)
        {
            Assert.Equal(expected[i].Offset, read[i].Offset);
            Assert.Equal(expected[i].SequenceNumber, read[i].Sequence);
            Assert.Equal(expected[0].SequenceNumber + i, read[i].Sequence);
            Assert.Equal(EventBody(label, firstBodyIndex + i), read[i].Body);
        }
    }

    /// <summary>Logs like <see cref="ListLoggerFactory"/> and completes <see cref="Matched"/> on the first matching message.</summary>
    private sealed class SignalingLoggerFactory(string fragment) : ILoggerFactory, ILogger
    {
        private readonly TaskCompletionSource<(LogLevel Level, string Message)> _matched = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public Task<(LogLevel Level, string Message)> Matched => _matched.Task;

        public ILogger CreateLogger(string categoryName) => this;

        public void AddProvider(ILoggerProvider provider)
        {
        }

        public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => logLevel >= LogLevel.Information;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            var message = formatter(state, exception);
            if (message.Contains(fragment, StringComparison.Ordinal))
            {
                _matched.TrySetResult((logLevel, message));
            }
        }

        public void Dispose()
        {
        }
    }
}

/// <summary>Waits, without polling, for FASTER's background deletion of segment files.</summary>
internal static class FileDeletion
{
    /// <summary>Completes once no <c>{log}.log.N</c> with N below <paramref name="segment"/> is left in the folder.</summary>
    public static async Task WaitForSegmentsBelowAsync(string directory, string log, long segment, TimeSpan bound)
    {
        var gone = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        using var watcher = new FileSystemWatcher(directory, $"{log}.log.*");
        watcher.Deleted += (_, _) => Check();
        watcher.EnableRaisingEvents = true; // watch first, then look, so no deletion goes unseen
        Check();
        try
        {
            await gone.Task.WaitAsync(bound);
        }
        catch (TimeoutException)
        {
            Assert.Fail($"segments of {log} below {segment} still exist after {bound}: {string.Join(", ", Remaining())}");
        }

        void Check()
        {
            if (!Remaining().Any())
            {
                gone.TrySetResult();
            }
        }

        IEnumerable<string> Remaining() => Directory.GetFiles(directory, $"{log}.log.*")
            .Where(f => long.TryParse(Path.GetExtension(f).AsSpan(1), out long n) && n < segment);
    }
}
