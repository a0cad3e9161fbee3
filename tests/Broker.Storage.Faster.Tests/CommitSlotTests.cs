using System.Buffers.Binary;
using System.Text;
using Broker.Storage.Faster.Commit;
using Microsoft.Extensions.Time.Testing;

namespace Broker.Storage.Faster.Tests;

/// <summary>
/// Commit records live in two alternating slots of one preallocated file (<c>log-commits/commit.slots</c>): a torn
/// newest slot leaves the one before it readable, a write never touches the slot holding the newest record, and stores
/// written in the older one-file-per-commit layout (<c>commit.N.0</c>) still open and move to the slots.
/// </summary>
public sealed class CommitSlotTests
{
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(60);

    private static byte[] Metadata(long commitNum) => Encoding.UTF8.GetBytes($"metadata of commit {commitNum}");

    [Fact]
    public void Commits_AlternateSlots_NewestFirst_InOneFileOfFixedSize()
    {
        using var dir = new TempDirectory();
        using (var commits = new FileLogCommitManager(dir.Path))
        {
            for (long n = 1; n <= 5; n++)
            {
                commits.Commit(64, 64 * n, Metadata(n), n, false);
            }

            Assert.Equal([5, 4], commits.ListCommits());
            Assert.Equal(Metadata(5), commits.GetCommitMetadata(5));
            Assert.Equal(Metadata(4), commits.GetCommitMetadata(4));
        }

        Assert.Equal([FileLogCommitManager.SlotFileName], Directory.GetFiles(dir.Path).Select(Path.GetFileName));
        Assert.Equal(2 * FileLogCommitManager.SlotSize, new FileInfo(Path.Combine(dir.Path, FileLogCommitManager.SlotFileName)).Length);

        using var reopened = new FileLogCommitManager(dir.Path);
        Assert.Equal([5, 4], reopened.ListCommits());
        Assert.Equal(5, reopened.LatestCommit);
    }

    [Fact]
    public void TornNewestSlot_IsSkipped_AndTheNextCommitOverwritesItNotThePreviousOne()
    {
        using var dir = new TempDirectory();
        using (var commits = new FileLogCommitManager(dir.Path))
        {
            commits.Commit(64, 128, Metadata(1), 1, false);
            commits.Commit(64, 192, Metadata(2), 2, false); // slot 1
        }

        // A torn write of commit 2: part of its metadata never reached the disk.
        var path = Path.Combine(dir.Path, FileLogCommitManager.SlotFileName);
        using (var file = new FileStream(path, FileMode.Open, FileAccess.Write))
        {
            file.Position = FileLogCommitManager.SlotSize + 30;
            file.Write(new byte[8]);
        }

        using (var commits = new FileLogCommitManager(dir.Path))
        {
            Assert.Equal([1], commits.ListCommits());
            Assert.Equal(Metadata(1), commits.GetCommitMetadata(1));
            commits.OnRecovery(1);
            commits.Commit(64, 256, Metadata(3), 3, false); // goes to the torn slot, keeping commit 1
        }

        using var again = new FileLogCommitManager(dir.Path);
        Assert.Equal([3, 1], again.ListCommits());
        Assert.Equal(Metadata(1), again.GetCommitMetadata(1));
    }

    [Fact]
    public void GarbledSlots_ListNothing()
    {
        using var dir = new TempDirectory();
        using (var commits = new FileLogCommitManager(dir.Path))
        {
            commits.Commit(64, 128, Metadata(1), 1, false);
            commits.Commit(64, 192, Metadata(2), 2, false);
        }

        var path = Path.Combine(dir.Path, FileLogCommitManager.SlotFileName);
        var garbage = new byte[new FileInfo(path).Length];
        new Random(5).NextBytes(garbage);
        File.WriteAllBytes(path, garbage);
        using var reopened = new FileLogCommitManager(dir.Path);
        Assert.Empty(reopened.ListCommits());
    }

    /// <summary>A store written with one file per commit opens, keeps its events, and moves to the slot file.</summary>
    [Fact]
    public async Task StoreInOlderLayout_Recovers_ThenCommitsToSlotsAndDropsTheOldFiles()
    {
        using var dir = new TempDirectory();
        var options = TestStores.SmallOptions(dir.Path, partitions: 1);
        var time = new FakeTimeProvider(new DateTimeOffset(2026, 1, 1, 0, 0, 0, TimeSpan.Zero));
        long end;
        await using (var store = TestStores.Open(options, time))
        {
            var events = store.GetPartition(0).Events;
            end = 0;
            for (int i = 0; i < 100; i++)
            {
                end = events.Append(Encoding.UTF8.GetBytes($"event {i}")).EndAddress;
            }

            await events.WaitDurableAsync(end).AsTask().WaitAsync(Bound);
        }

        // Rewrite the events log's newest commit in the older layout: a 4-byte length and FASTER's metadata.
        var folder = Path.Combine(dir.Path, "p00", "events", "log-commits");
        long newest;
        byte[] metadata;
        using (var commits = new FileLogCommitManager(folder))
        {
            newest = commits.LatestCommit;
            metadata = commits.GetCommitMetadata(newest);
        }

        var legacy = new byte[512];
        BinaryPrimitives.WriteInt32LittleEndian(legacy, metadata.Length);
        metadata.CopyTo(legacy, 4);
        File.WriteAllBytes(Path.Combine(folder, $"commit.{newest}.0"), legacy);
        File.Delete(Path.Combine(folder, FileLogCommitManager.SlotFileName));

        await using (var store = TestStores.Open(options, time))
        {
            var events = store.GetPartition(0).Events;
            Assert.Equal(end, events.DurableAddress);
            Assert.Equal(100, EventCollector.ReadAll(events).Count);
            long more = events.Append("after"u8).EndAddress;
            await events.WaitDurableAsync(more).AsTask().WaitAsync(Bound);
            Assert.Equal([FileLogCommitManager.SlotFileName], Directory.GetFiles(folder).Select(Path.GetFileName));
        }

        await using (var store = TestStores.Open(options, time))
        {
            Assert.Equal(101, EventCollector.ReadAll(store.GetPartition(0).Events).Count);
        }
    }
}
