using System.Diagnostics;
using System.Globalization;
using System.Text;
using System.Text.Json.Nodes;
using Broker.Core.Storage;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Time.Testing;
using Xunit.Abstractions;

namespace Broker.Storage.Faster.Tests;

/// <summary>
/// Damaged files on disk: a torn or corrupt log tail is cut off (keeping everything before it, reporting the rest),
/// while damage that would silently lose committed data (manifest, missing segments, commit metadata, partition
/// count) refuses to open with a <see cref="StorageException"/> naming the file. A full disk fails the log loudly.
/// </summary>
public sealed class CorruptionTests(ITestOutputHelper output)
{
    private const int FasterRecordHeader = 4; // FasterLog's length prefix (no FASTER checksum)
    private const int EventHeader = 32; // Records.EventRecord.HeaderSize
    private const int StateHeader = 16; // Records.StateRecord.HeaderSize
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(60);

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task Reopen_CorruptRecordNearEventsTail_KeepsEarlierEventsReportsDropAndKeepsAppending(bool checkpointBeforeDamage)
    {
        using var dir = new TempDirectory();
        var options = TestStores.SmallOptions(dir.Path, partitions: 1);
        var (appended, committed) = await AppendEventsAsync(options, 300, checkpointBeforeDamage);

        const int corrupt = 295; // the 6th record from the end: 295..299 are dropped
        var offset = appended[corrupt].Offset;
        var segment = StoreFiles.SegmentPath(dir.Path, "events", offset, options.EventsLog.SegmentSizeBits);
        StoreFiles.FlipBytes(segment, StoreFiles.PositionIn(offset, options.EventsLog.SegmentSizeBits) + FasterRecordHeader + EventHeader + 3, 4);

        await VerifyEventsCutAndContinueAsync(options, appended, committed, corrupt, segment,
            expectedNextSequence: checkpointBeforeDamage ? 300 : corrupt);
    }

    [Fact]
    public async Task Reopen_CrashAfterTailCutBeforeManifestWasLowered_OpensWithTheCutLog()
    {
        using var dir = new TempDirectory();
        var options = TestStores.SmallOptions(dir.Path, partitions: 1);
        var (appended, _) = await AppendEventsAsync(options, 300, checkpoint: true);
        const int corrupt = 290;
        var offset = appended[corrupt].Offset;
        var segment = StoreFiles.SegmentPath(dir.Path, "events", offset, options.EventsLog.SegmentSizeBits);
        StoreFiles.FlipBytes(segment, StoreFiles.PositionIn(offset, options.EventsLog.SegmentSizeBits) + FasterRecordHeader + EventHeader + 1, 2);
        var manifestBeforeCut = File.ReadAllBytes(Path.Combine(dir.Path, "p00", "manifest.json"));

        // The process dies right after opening (no final commit): a copy of the files taken then, with the manifest
        // as it was before the cut, is what a crash between committing the shorter log and lowering the manifest leaves.
        var crashed = Path.Combine(dir.Path, "crashed");
        var logs = new ListLoggerFactory();
        await using (FasterHubStore.Open(options, logs, NewTime()))
        {
            Assert.Single(logs.Messages, m => m.Level == LogLevel.Warning);
            CopyDirectory(dir.Path, crashed, skip: crashed);
        }

        var manifest = Path.Combine(crashed, "p00", "manifest.json");
        Assert.NotEqual(manifestBeforeCut, File.ReadAllBytes(manifest));
        File.WriteAllBytes(manifest, manifestBeforeCut);
        options = TestStores.SmallOptions(crashed, partitions: 1);

        logs = new ListLoggerFactory();
        await using (var store = FasterHubStore.Open(options, logs, NewTime()))
        {
            Assert.DoesNotContain(logs.Messages, m => m.Level >= LogLevel.Warning);
            var events = store.GetPartition(0).Events;
            var read = EventCollector.ReadAll(events);
            Assert.Equal(corrupt, read.Count);
            AssertPrefix(read, appended, corrupt);
            var next = events.Append("after"u8);
            await events.WaitDurableAsync(next.EndAddress).AsTask().WaitAsync(Bound);
        }

        await using (var store = FasterHubStore.Open(options, null, NewTime()))
        {
            Assert.Equal(corrupt + 1, EventCollector.ReadAll(store.GetPartition(0).Events).Count);
        }
    }

    [Fact]
    public async Task Reopen_EventsSegmentTruncatedInsideLastRecord_KeepsEarlierEventsReportsDropAndKeepsAppending()
    {
        using var dir = new TempDirectory();
        var options = TestStores.SmallOptions(dir.Path, partitions: 1);
        var (appended, committed) = await AppendEventsAsync(options, 300, checkpoint: false);

        int last = appended.Count - 1;
        var offset = appended[last].Offset;
        var segment = StoreFiles.SegmentPath(dir.Path, "events", offset, options.EventsLog.SegmentSizeBits);
        long recordStart = StoreFiles.PositionIn(offset, options.EventsLog.SegmentSizeBits);
        long recordLength = appended[last].EndAddress - offset;
        using (var file = new FileStream(segment, FileMode.Open, FileAccess.ReadWrite))
        {
            Assert.True(file.Length >= recordStart + recordLength);
            file.SetLength(recordStart + (recordLength / 2)); // the last record is cut in half
        }

        await VerifyEventsCutAndContinueAsync(options, appended, committed, last, segment, expectedNextSequence: last);
    }

    [Fact]
    public async Task Reopen_CorruptLastStateRecord_KeepsEarlierStateChangesAndKeepsWriting()
    {
        using var dir = new TempDirectory();
        var options = TestStores.SmallOptions(dir.Path, partitions: 1);
        const int changes = 40;
        var ends = new long[changes];
        await using (var store = TestStores.Open(options))
        {
            var state = store.GetPartition(0).State;
            for (int i = 0; i < changes; i++)
            {
                ends[i] = state.Put(StateRecordKind.Twin, $"key{i:D2}", $"value {i} " + new string('s', i));
            }

            await state.WaitDurableAsync(ends[^1]).AsTask().WaitAsync(Bound);
        }

        long lastRecord = ends[changes - 2]; // the last record starts where the one before it ends
        var segment = StoreFiles.SegmentPath(dir.Path, "state", lastRecord, options.StateLog.SegmentSizeBits);
        StoreFiles.FlipBytes(segment, StoreFiles.PositionIn(lastRecord, options.StateLog.SegmentSizeBits) + FasterRecordHeader + StateHeader + "key39".Length + 2, 2);

        var logs = new ListLoggerFactory();
        long afterEnd;
        await using (var store = FasterHubStore.Open(options, logs, NewTime()))
        {
            var state = store.GetPartition(0).State;
            var warning = Assert.Single(logs.Messages, m => m.Level == LogLevel.Warning);
            output.WriteLine(warning.Message);
            Assert.Contains("state log", warning.Message, StringComparison.Ordinal);
            Assert.Contains(segment, warning.Message, StringComparison.Ordinal);
            Assert.Contains($"at address {lastRecord} ", warning.Message, StringComparison.Ordinal);
            Assert.Contains($"dropped {ends[^1] - lastRecord} bytes", warning.Message, StringComparison.Ordinal);
            Assert.Equal(lastRecord, state.DurableAddress); // nothing past the cut may count as durable

            for (int i = 0; i < changes - 1; i++)
            {
                Assert.Equal($"value {i} " + new string('s', i), Encoding.UTF8.GetString(state.Read(StateRecordKind.Twin, $"key{i:D2}")!));
            }

            Assert.Null(state.Read(StateRecordKind.Twin, "key39"));

            afterEnd = state.Put(StateRecordKind.Twin, "after", "written after the repair");
            Assert.True(afterEnd > lastRecord);
            await state.WaitDurableAsync(afterEnd).AsTask().WaitAsync(Bound);
            Assert.True(state.DurableAddress >= afterEnd);
        }

        logs = new ListLoggerFactory();
        await using (var store = FasterHubStore.Open(options, logs, NewTime()))
        {
            var state = store.GetPartition(0).State;
            Assert.DoesNotContain(logs.Messages, m => m.Level >= LogLevel.Warning);
            for (int i = 0; i < changes - 1; i++)
            {
                Assert.Equal($"value {i} " + new string('s', i), Encoding.UTF8.GetString(state.Read(StateRecordKind.Twin, $"key{i:D2}")!));
            }

            Assert.Null(state.Read(StateRecordKind.Twin, "key39"));
            Assert.Equal("written after the repair", Encoding.UTF8.GetString(state.Read(StateRecordKind.Twin, "after")!));
        }
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task Open_CorruptManifest_ThrowsStorageExceptionNamingManifest(bool validJsonWrongChecksum)
    {
        using var dir = new TempDirectory();
        var options = TestStores.SmallOptions(dir.Path, partitions: 1);
        await AppendEventsAsync(options, 20, checkpoint: true);
        var manifest = Path.Combine(dir.Path, "p00", "manifest.json");
        if (validJsonWrongChecksum)
        {
            var json = JsonNode.Parse(File.ReadAllText(manifest))!.AsObject();
            long next = json["EventsNextSequence"]!.GetValue<long>();
            Assert.Equal(20, next);
            json["EventsNextSequence"] = next + 1;
            File.WriteAllText(manifest, json.ToJsonString());
        }
        else
        {
            var garbage = new byte[300];
            new Random(7).NextBytes(garbage);
            File.WriteAllBytes(manifest, garbage);
        }

        var ex = Assert.Throws<StorageException>(() => FasterHubStore.Open(options, null, NewTime()));
        output.WriteLine(ex.Message);
        Assert.Equal(manifest, ex.Path);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(1)]
    public async Task Open_MissingEventsSegmentWithCommittedData_ThrowsStorageExceptionNamingSegment(int missing)
    {
        using var dir = new TempDirectory();
        var options = TestStores.SmallOptions(dir.Path, partitions: 1);
        var (appended, _) = await AppendEventsAsync(options, 2500, checkpoint: false, bodyPadding: 80);
        long segments = (appended[^1].EndAddress >> options.EventsLog.SegmentSizeBits) + 1;
        Assert.True(segments >= 3, $"only {segments} segments");

        var segment = Path.Combine(dir.Path, "p00", "events", $"events.log.{missing}");
        Assert.True(File.Exists(segment));
        File.Delete(segment);

        var ex = Assert.Throws<StorageException>(() => FasterHubStore.Open(options, null, NewTime()));
        output.WriteLine(ex.Message);
        Assert.Equal(segment, ex.Path);
    }

    [Theory]
    [InlineData("events", false)]
    [InlineData("events", true)]
    [InlineData("state", false)]
    [InlineData("state", true)]
    public async Task Open_LostOrCorruptCommitMetadataAfterCheckpoint_ThrowsStorageExceptionNamingCommitFolder(string log, bool garble)
    {
        using var dir = new TempDirectory();
        var options = TestStores.SmallOptions(dir.Path, partitions: 1);
        await using (var store = TestStores.Open(options))
        {
            var partition = store.GetPartition(0);
            TelemetryAppend last = default;
            for (int i = 0; i < 500; i++)
            {
                last = partition.Events.Append(Encoding.UTF8.GetBytes($"event {i}"));
            }

            long stateEnd = 0;
            for (int i = 0; i < 100; i++)
            {
                stateEnd = partition.State.Put(StateRecordKind.Twin, $"k{i}", $"v{i}");
            }

            await partition.Events.WaitDurableAsync(last.EndAddress).AsTask().WaitAsync(Bound);
            await partition.State.WaitDurableAsync(stateEnd).AsTask().WaitAsync(Bound);
            await store.CheckpointAsync().AsTask().WaitAsync(Bound); // the manifest now records both durable addresses
            stateEnd = partition.State.Put(StateRecordKind.Twin, "after-checkpoint", "x");
            await partition.State.WaitDurableAsync(stateEnd).AsTask().WaitAsync(Bound);
        }

        var commits = Path.Combine(dir.Path, "p00", log, "log-commits");
        var files = Directory.GetFiles(commits);
        Assert.NotEmpty(files);
        foreach (var file in files)
        {
            output.WriteLine($"{Path.GetFileName(file)}: {new FileInfo(file).Length} bytes");
            if (garble)
            {
                var garbage = new byte[new FileInfo(file).Length];
                new Random(11).NextBytes(garbage);
                File.WriteAllBytes(file, garbage);
            }
            else
            {
                File.Delete(file);
            }
        }

        var ex = Assert.Throws<StorageException>(() => FasterHubStore.Open(options, null, NewTime()));
        output.WriteLine(ex.Message);
        Assert.Equal(commits, ex.Path);
    }

    [Fact]
    public async Task Open_GarbledEventsCommitMetadataBeforeAnyCheckpoint_ThrowsStorageExceptionNamingCommitFolder()
    {
        using var dir = new TempDirectory();
        var options = TestStores.SmallOptions(dir.Path, partitions: 1);
        await AppendEventsAsync(options, 300, checkpoint: false);
        var commits = Path.Combine(dir.Path, "p00", "events", "log-commits");
        foreach (var file in Directory.GetFiles(commits))
        {
            File.WriteAllBytes(file, Enumerable.Repeat((byte)0xA5, (int)new FileInfo(file).Length).ToArray());
        }

        var ex = Assert.Throws<StorageException>(() => FasterHubStore.Open(options, null, NewTime()));
        output.WriteLine(ex.Message);
        Assert.Equal(commits, ex.Path);
    }

    [Fact]
    public async Task Open_DifferentPartitionCount_ThrowsStorageExceptionNamingStoreJson_NullUsesStoredCount()
    {
        using var dir = new TempDirectory();
        var options = TestStores.SmallOptions(dir.Path, partitions: 2);
        await using (var store = TestStores.Open(options))
        {
            var end = store.GetPartitionFor("dev-1").State.Put(StateRecordKind.Registry, "dev-1", "identity");
            await store.GetPartitionFor("dev-1").State.WaitDurableAsync(end).AsTask().WaitAsync(Bound);
        }

        options.PartitionCount = 3;
        var ex = Assert.Throws<StorageException>(() => FasterHubStore.Open(options, null, NewTime()));
        output.WriteLine(ex.Message);
        Assert.Equal(Path.Combine(dir.Path, "store.json"), ex.Path);
        Assert.Contains("fixed", ex.Message, StringComparison.Ordinal);
        Assert.Contains("2", ex.Message, StringComparison.Ordinal);
        Assert.Contains("3", ex.Message, StringComparison.Ordinal);
        Assert.False(Directory.Exists(Path.Combine(dir.Path, "p02")));

        options.PartitionCount = null;
        await using (var store = FasterHubStore.Open(options, null, NewTime()))
        {
            Assert.Equal(2, store.PartitionCount);
            Assert.Equal("identity", Encoding.UTF8.GetString(store.GetPartitionFor("dev-1").State.Read(StateRecordKind.Registry, "dev-1")!));
        }
    }

    /// <summary>
    /// A full disk (a 1 MiB tmpfs): the log fails loudly with a <see cref="StorageException"/> naming a file of the
    /// store, every acknowledgement stops at the failure, the process goes on, and once there is room again every
    /// acknowledged event is still there and the store works. Needs root (mount); fails, never skips, without it.
    /// </summary>
    [Fact]
    public async Task Append_DiskFull_FailsWithStorageExceptionAcknowledgesNothingAfterAndRecoversWhenSpaceReturns()
    {
        using var dir = new TempDirectory();
        var mountPoint = Path.Combine(dir.Path, "tmpfs");
        Directory.CreateDirectory(mountPoint);
        var mounted = Run("mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs", mountPoint);
        Assert.True(mounted.ExitCode == 0,
            $"This test needs to mount a small tmpfs (run as root with mount permission): mount exited {mounted.ExitCode}: {mounted.Output}");
        try
        {
            var data = Path.Combine(mountPoint, "data");
            var options = TestStores.SmallOptions(data, partitions: 1);
            var callback = new RecordingCallback();
            var appended = new List<TelemetryAppend>();
            StorageException? appendFailure = null;
            var logs = new ListLoggerFactory();
            int acknowledged;
            var store = FasterHubStore.Open(options, logs, NewTime());
            try
            {
                var events = store.GetPartition(0).Events;
                var body = new byte[1000];
                using var bound = new CancellationTokenSource(Bound);
                for (int i = 0; i < 100_000 && appendFailure is null; i++)
                {
                    Encoding.ASCII.GetBytes($"event {i:D6}").CopyTo(body, 0);
                    try
                    {
                        appended.Add(events.Append(body, callback, i));
                    }
                    catch (StorageException ex)
                    {
                        appendFailure = ex;
                    }

                    bound.Token.ThrowIfCancellationRequested();
                }

                Assert.NotNull(appendFailure);
                output.WriteLine($"append failed after {appended.Count} events: {appendFailure.Message}");
                for (var inner = appendFailure.InnerException; inner is not null; inner = inner.InnerException)
                {
                    output.WriteLine($"  caused by {inner.GetType().Name}: {inner.Message}");
                }

                AssertNamesEventsFile(data, appendFailure);

                // WaitDurableAsync and the callbacks report the same failure; nothing after it is acknowledged.
                var waitFailure = await Assert.ThrowsAsync<StorageException>(() => events.WaitDurableAsync(appended[^1].EndAddress).AsTask().WaitAsync(Bound));
                AssertNamesEventsFile(data, waitFailure);
                await callback.AllSettled(appended.Count).WaitAsync(Bound);
                var (durable, failed) = callback.Snapshot();
                output.WriteLine($"{durable.Count} acknowledged, {failed.Count} failed; durable address {events.DurableAddress}");
                Assert.NotEmpty(failed);
                Assert.All(failed, f => AssertNamesEventsFile(data, Assert.IsType<StorageException>(f.Error)));
                Assert.Equal(Enumerable.Range(0, durable.Count).Select(i => (long)i), durable); // acknowledgements are a prefix
                Assert.Equal(durable.Count, failed.Min(f => f.Token)); // no failed event precedes an acknowledged one
                Assert.True(durable.Count == 0 || appended[durable.Count - 1].EndAddress <= events.DurableAddress);
                AssertNamesEventsFile(data, Assert.Throws<StorageException>(() => events.Append("more"u8))); // the log stays stopped
                // A checkpoint now fails the same way (a StorageException, not a FASTER type), and does not hang.
                AssertNamesEventsFile(data, await Assert.ThrowsAsync<StorageException>(() => store.CheckpointAsync().AsTask().WaitAsync(Bound)));
                Assert.Contains(logs.Messages, m => m.Level == LogLevel.Error && m.Message.Contains("events", StringComparison.Ordinal));
                acknowledged = durable.Count;
            }
            finally
            {
                await store.DisposeAsync().AsTask().WaitAsync(Bound); // closing a failed store must not hang
            }

            // Room again, two ways: a copy of the data in a normal folder, and the same tmpfs remounted bigger.
            // Either way the store opens and every acknowledged event is there, in order.
            var copy = Path.Combine(dir.Path, "copy");
            CopyDirectory(data, copy);
            await VerifyAfterDiskFullAsync(TestStores.SmallOptions(copy, partitions: 1), appended, acknowledged, "copy");

            var remounted = Run("mount", "-o", "remount,size=64m", mountPoint);
            Assert.True(remounted.ExitCode == 0, $"remount failed: {remounted.Output}");
            await VerifyAfterDiskFullAsync(options, appended, acknowledged, "remounted tmpfs");
        }
        finally
        {
            Unmount(mountPoint);
        }
    }

    /// <summary>
    /// Files that cannot be created while existing ones still take writes. Crossing into a new segment creates a
    /// segment file (here the events folder is made immutable): FASTER hung on that failure (in AsyncPool.Dispose);
    /// now the log fails with a <see cref="StorageException"/> naming the file, acknowledges nothing it could not
    /// commit and closes without hanging, and a copy of the files taken then recovers everything acknowledged.
    /// With no inode left (<paramref name="segmentFile"/> false), commits used to fail too, because each wrote a new
    /// commit record file (FASTER lost that failure: the commit counted as done); commit records now overwrite one of
    /// two slots of a preallocated file, so commits need no new file and go on being acknowledged, and recovered.
    /// </summary>
    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task Append_NewFileCannotBeCreated_FailsInsteadOfAcknowledgingAndDoesNotHang(bool segmentFile)
    {
        using var dir = new TempDirectory();
        var mountPoint = Path.Combine(dir.Path, "tmpfs");
        Directory.CreateDirectory(mountPoint);
        var mounted = Run("mount", "-t", "tmpfs", "-o", "size=64m,nr_inodes=400", "tmpfs", mountPoint);
        Assert.True(mounted.ExitCode == 0,
            $"This test needs to mount a small tmpfs (run as root with mount permission): mount exited {mounted.ExitCode}: {mounted.Output}");
        try
        {
            var data = Path.Combine(mountPoint, "data");
            var eventsFolder = Path.Combine(data, "p00", "events");
            var options = TestStores.SmallOptions(data, partitions: 1);
            var acknowledged = new List<TelemetryAppend>();
            var store = FasterHubStore.Open(options, null, NewTime());
            try
            {
                var events = store.GetPartition(0).Events;
                for (int i = 0; i < 20; i++)
                {
                    acknowledged.Add(events.Append(Body(i)));
                }

                await events.WaitDurableAsync(acknowledged[^1].EndAddress).AsTask().WaitAsync(Bound);

                if (segmentFile)
                {
                    // The events folder takes no new file: segment 0 still takes writes, segment 1 cannot be created.
                    var immutable = Run("chattr", "+i", eventsFolder);
                    Assert.True(immutable.ExitCode == 0, $"chattr +i failed: {immutable.Output}");
                }
                else
                {
                    // Use up every inode: segment 0 still has room, but no commit record file can be created.
                    int fillers = 0;
                    try
                    {
                        while (fillers < 10_000)
                        {
                            File.WriteAllBytes(Path.Combine(mountPoint, $"filler{fillers}"), []);
                            fillers++;
                        }
                    }
                    catch (IOException)
                    {
                    }

                    output.WriteLine($"{fillers} filler files took the remaining inodes");
                }

                StorageException? failure = null;
                var more = new List<TelemetryAppend>();
                try
                {
                    // 1,000 events of about 100 bytes run past the first 64 KiB segment.
                    for (int i = 20; i < (segmentFile ? 1020 : 21); i++)
                    {
                        more.Add(events.Append(Body(i)));
                    }

                    await events.WaitDurableAsync(more[^1].EndAddress).AsTask().WaitAsync(Bound);
                    acknowledged.AddRange(more);
                }
                catch (StorageException ex)
                {
                    failure = ex;
                }

                if (failure is not null)
                {
                    // Whatever durability said before the failure may count; nothing after it.
                    acknowledged.AddRange(more.Where(m => m.EndAddress <= events.DurableAddress));
                    output.WriteLine($"{more.Count} appended after, {acknowledged.Count - 20} of them acknowledged: {failure.Message}");
                    Assert.Matches(@"/events/events\.log\.\d+$", failure.Path);
                    Assert.Throws<StorageException>(() => events.Append("more"u8));
                }

                output.WriteLine($"after: {(failure is null ? "acknowledged" : failure.Message)}; commit files: " +
                    string.Join(", ", Directory.GetFiles(Path.Combine(data, "p00", "events", "log-commits")).Select(Path.GetFileName)));

                // A crash now: whatever was acknowledged must be recoverable from the files as they are.
                var copy = Path.Combine(dir.Path, "copy");
                CopyDirectory(data, copy);
                await using (var recovered = FasterHubStore.Open(TestStores.SmallOptions(copy, partitions: 1), null, NewTime()))
                {
                    var read = EventCollector.ReadAll(recovered.GetPartition(0).Events);
                    output.WriteLine($"a copy taken then recovers {read.Count} events; {acknowledged.Count} were acknowledged");
                    Assert.True(read.Count >= acknowledged.Count, $"only {read.Count} of {acknowledged.Count} acknowledged events survive");
                }

                if (segmentFile)
                {
                    Assert.NotNull(failure);
                }
                else
                {
                    Assert.Null(failure); // the commit slots need no inode
                }
            }
            finally
            {
                await store.DisposeAsync().AsTask().WaitAsync(Bound);
                if (segmentFile)
                {
                    Run("chattr", "-i", eventsFolder);
                }
            }
        }
        finally
        {
            Unmount(mountPoint);
        }
    }

    private void Unmount(string mountPoint)
    {
        // A log stopped by a failed page write leaves its FASTER device to the collector (see DurableLog.DisposeAsync).
        GC.Collect();
        GC.WaitForPendingFinalizers();
        var unmounted = Run("umount", mountPoint);
        if (unmounted.ExitCode != 0)
        {
            output.WriteLine($"umount failed ({unmounted.Output}); detaching lazily");
            Run("umount", "-l", mountPoint);
        }
    }

    /// <summary>The failure names the events segment whose page write failed, or the commit record that could not be written.</summary>
    private static void AssertNamesEventsFile(string dataDirectory, StorageException failure)
    {
        var events = System.Text.RegularExpressions.Regex.Escape(Path.Combine(dataDirectory, "p00", "events") + Path.DirectorySeparatorChar);
        Assert.Matches("^" + events + @"(events\.log\.\d+|log-commits/commit\.slots|log-commits/commit\.\d+\.0)$", failure.Path);
    }

    private async Task VerifyAfterDiskFullAsync(FasterStoreOptions options, List<TelemetryAppend> appended, int acknowledged, string where)
    {
        var logs = new ListLoggerFactory();
        await using var store = FasterHubStore.Open(options, logs, NewTime());
        foreach (var (level, message) in logs.Messages)
        {
            output.WriteLine($"{where}: {level}: {message}");
        }

        var events = store.GetPartition(0).Events;
        var read = EventCollector.ReadAll(events);
        output.WriteLine($"{where}: {read.Count} events readable, {acknowledged} were acknowledged");
        Assert.True(read.Count >= acknowledged, $"{where}: only {read.Count} of {acknowledged} acknowledged events are readable");
        for (int i = 0; i < read.Count; i++)
        {
            Assert.Equal(i, read[i].Sequence);
            Assert.Equal(appended[i].Offset, read[i].Offset);
            Assert.StartsWith($"event {i:D6}", Encoding.ASCII.GetString(read[i].Body), StringComparison.Ordinal);
        }

        var next = events.Append("after the disk had room again"u8);
        Assert.Equal(read.Count, next.SequenceNumber);
        await events.WaitDurableAsync(next.EndAddress).AsTask().WaitAsync(Bound);
    }

    private static void CopyDirectory(string source, string destination, string? skip = null)
    {
        Directory.CreateDirectory(destination);
        foreach (var file in Directory.GetFiles(source))
        {
            File.Copy(file, Path.Combine(destination, Path.GetFileName(file)));
        }

        foreach (var directory in Directory.GetDirectories(source))
        {
            if (directory != skip)
            {
                CopyDirectory(directory, Path.Combine(destination, Path.GetFileName(directory)), skip);
            }
        }
    }

    private static FakeTimeProvider NewTime() => new(new DateTimeOffset(2026, 11, 26, 12, 0, 0, TimeSpan.Zero));

    private static byte[] Body(int i, int padding = 37) => Encoding.UTF8.GetBytes($"event {i:D5} " + new string((char)('a' + (i % 26)), i % padding));

    /// <summary>Appends events to partition 0 of a fresh store, waits until durable, optionally checkpoints, closes it.</summary>
    private static async Task<(List<TelemetryAppend> Appended, long Committed)> AppendEventsAsync(FasterStoreOptions options, int count, bool checkpoint, int bodyPadding = 37)
    {
        var appended = new List<TelemetryAppend>();
        long committed;
        await using (var store = TestStores.Open(options, NewTime()))
        {
            var events = store.GetPartition(0).Events;
            for (int i = 0; i < count; i++)
            {
                appended.Add(events.Append(Body(i, bodyPadding)));
            }

            await events.WaitDurableAsync(appended[^1].EndAddress).AsTask().WaitAsync(Bound);
            if (checkpoint)
            {
                await store.CheckpointAsync().AsTask().WaitAsync(Bound);
            }

            committed = events.TailOffset;
            Assert.Equal(committed, events.DurableAddress);
        }

        return (appended, committed);
    }

    /// <summary>
    /// Reopens a store whose events log is damaged at record <paramref name="firstBad"/>: the records before it are
    /// kept exactly, the warning names file, address and dropped bytes, nothing past the cut counts as durable, new
    /// appends continue the sequence and survive another reopen.
    /// </summary>
    private async Task VerifyEventsCutAndContinueAsync(FasterStoreOptions options, List<TelemetryAppend> appended, long committed,
        int firstBad, string segment, long expectedNextSequence)
    {
        long cut = appended[firstBad].Offset;
        var logs = new ListLoggerFactory();
        var added = new List<TelemetryAppend>();
        await using (var store = FasterHubStore.Open(options, logs, NewTime()))
        {
            var events = store.GetPartition(0).Events;
            var warning = Assert.Single(logs.Messages, m => m.Level == LogLevel.Warning);
            output.WriteLine(warning.Message);
            Assert.Contains("events log", warning.Message, StringComparison.Ordinal);
            Assert.Contains(segment, warning.Message, StringComparison.Ordinal);
            Assert.Contains($"at address {cut} ", warning.Message, StringComparison.Ordinal);
            Assert.Contains($"dropped {committed - cut} bytes", warning.Message, StringComparison.Ordinal);

            var kept = EventCollector.ReadAll(events);
            Assert.Equal(firstBad, kept.Count); // nothing from the damaged record on
            AssertPrefix(kept, appended, firstBad);
            Assert.Equal(cut, events.TailOffset);
            Assert.Equal(cut, events.DurableAddress); // nothing past the cut may count as durable
            Assert.Equal(expectedNextSequence, events.NextSequenceNumber);

            // Fewer new bytes than were dropped, so the new tail stays below the old one.
            for (int i = 0; i < 2; i++)
            {
                var append = events.Append(Encoding.UTF8.GetBytes($"after repair {i}"));
                Assert.Equal(expectedNextSequence + i, append.SequenceNumber);
                added.Add(append);
            }

            Assert.Equal(cut, added[0].Offset);
            await events.WaitDurableAsync(added[^1].EndAddress).AsTask().WaitAsync(Bound);
            Assert.Equal(added[^1].EndAddress, events.DurableAddress);
        }

        logs = new ListLoggerFactory();
        await using (var store = FasterHubStore.Open(options, logs, NewTime()))
        {
            var events = store.GetPartition(0).Events;
            Assert.DoesNotContain(logs.Messages, m => m.Level >= LogLevel.Warning);
            var read = EventCollector.ReadAll(events);
            Assert.Equal(firstBad + added.Count, read.Count);
            AssertPrefix(read, appended, firstBad);
            for (int i = 0; i < added.Count; i++)
            {
                var e = read[firstBad + i];
                Assert.Equal(added[i].Offset, e.Offset);
                Assert.Equal(added[i].SequenceNumber, e.Sequence);
                Assert.Equal($"after repair {i}", Encoding.UTF8.GetString(e.Body));
            }

            Assert.Equal(expectedNextSequence + added.Count, events.NextSequenceNumber);
        }
    }

    private static void AssertPrefix(List<(long Offset, long Sequence, long Ticks, byte[] Body)> read, List<TelemetryAppend> appended, int count)
    {
        Assert.True(read.Count >= count, $"only {read.Count} of {count} kept events are readable");
        for (int i = 0; i < count; i++)
        {
            Assert.Equal(appended[i].Offset, read[i].Offset);
            Assert.Equal(i, read[i].Sequence);
            Assert.Equal(Body(i), read[i].Body);
        }

    }

    private static (int ExitCode, string Output) Run(string file, params string[] arguments)
    {
        try
        {
            using var process = Process.Start(new ProcessStartInfo(file, arguments)
            {
                RedirectStandardOutput = true,
                RedirectStandardError = true,
                UseShellExecute = false,
            })!;
            var stdout = process.StandardOutput.ReadToEndAsync();
            var stderr = process.StandardError.ReadToEndAsync();
            if (!process.WaitForExit(30_000))
            {
                process.Kill();
                return (-1, $"{file} did not exit within 30 s");
            }

            return (process.ExitCode, stdout.Result + stderr.Result);
        }
        catch (System.ComponentModel.Win32Exception ex)
        {
            return (-1, ex.Message);
        }
    }

    /// <summary>Records which tokens were acknowledged or failed, in the order the log reported them.</summary>
    private sealed class RecordingCallback : IDurabilityCallback
    {
        private readonly Lock _lock = new();
        private readonly List<long> _durable = [];
        private readonly List<(long Token, Exception Error)> _failed = [];
        private readonly TaskCompletionSource _settled = new(TaskCreationOptions.RunContinuationsAsynchronously);
        private int _target = int.MaxValue;

        public void OnDurable(long token)
        {
            lock (_lock)
            {
                _durable.Add(token);
                CheckSettled();
            }
        }

        public void OnFailed(long token, Exception error)
        {
            lock (_lock)
            {
                _failed.Add((token, error));
                CheckSettled();
            }
        }

        public Task AllSettled(int count)
        {
            lock (_lock)
            {
                _target = count;
                CheckSettled();
            }

            return _settled.Task;
        }

        public (List<long> Durable, List<(long Token, Exception Error)> Failed) Snapshot()
        {
            lock (_lock)
            {
                return ([.. _durable], [.. _failed]);
            }
        }

        private void CheckSettled()
        {
            if (_durable.Count + _failed.Count >= _target)
            {
                _settled.TrySetResult();
            }
        }
    }
}

/// <summary>Where records of a partition's logs live on disk, and ways to damage them.</summary>
internal static class StoreFiles
{
    public static string SegmentPath(string dataDirectory, string log, long address, int segmentSizeBits, int partition = 0)
        => Path.Combine(dataDirectory, $"p{partition:D2}", log, $"{log}.log.{(address >> segmentSizeBits).ToString(CultureInfo.InvariantCulture)}");

    public static long PositionIn(long address, int segmentSizeBits) => address & ((1L << segmentSizeBits) - 1);

    public static void FlipBytes(string path, long position, int count)
    {
        using var file = new FileStream(path, FileMode.Open, FileAccess.ReadWrite);
        Assert.True(position + count <= file.Length, $"{path} has {file.Length} bytes, cannot flip at {position}");
        var bytes = new byte[count];
        file.Position = position;
        file.ReadExactly(bytes);
        for (int i = 0; i < count; i++)
        {
            bytes[i] ^= 0x5A;
        }

        file.Position = position;
        file.Write(bytes);
        file.Flush(flushToDisk: true);
    }

    /// <summary>The files of one log (e.g. <c>events.log.*</c>) and their total size.</summary>
    public static (int Count, long Bytes, string[] Names) Segments(string directory, string log)
    {
        var files = Directory.Exists(directory) ? Directory.GetFiles(directory, $"{log}.log.*") : [];
        return (files.Length, files.Sum(f => new FileInfo(f).Length), [.. files.Select(Path.GetFileName).Order(StringComparer.Ordinal)!]);
    }
}
