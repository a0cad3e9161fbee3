using System.Buffers.Binary;
using System.Globalization;
using Broker.Core.Storage;
using FASTER.core;

namespace Broker.Storage.Faster.Commit;

/// <summary>
/// Writes a FasterLog's commit records (<c>log-commits/commit.N.0</c>: a 4-byte length and FASTER's metadata, the
/// layout FASTER's own DeviceLogCommitCheckpointManager uses, so existing stores read the same) with plain file I/O
/// that reports failure. FASTER's manager loses a failed write: its IOCallback only logs the error and the commit
/// counts as done, and if the file cannot even be created (no space, no inode) its per-commit device hangs in
/// AsyncPool.Dispose, because AsyncPool.GetOrAdd counts a handle before the creator that threw. Here a failed write
/// is recorded (see <see cref="Failed"/>) before it is thrown; FASTER's commit worker swallows the exception and never
/// completes that commit, so the owner must watch <see cref="Failed"/> rather than wait for the commit alone.
/// Older records are deleted only after a newer one is on disk.
/// </summary>
internal sealed class FileLogCommitManager : ILogCommitManager
{
    private const string Prefix = "commit.";
    private const string Suffix = ".0";
    private const int SectorSize = 512;

    private readonly TaskCompletionSource<StorageException> _failed = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private long _lastWritten = -1;
    private bool _directoryExists;

    public FileLogCommitManager(string directory) => Directory = directory;

    public string Directory { get; }

    /// <summary>Completes with the first failed write of a commit record; the log must stop acknowledging then.</summary>
    public Task<StorageException> Failed => _failed.Task;

    public StorageException? Failure => _failed.Task.IsCompleted ? _failed.Task.Result : null;

    public string PathOf(long commitNum) => Path.Combine(Directory, Prefix + commitNum.ToString(CultureInfo.InvariantCulture) + Suffix);

    public void Commit(long beginAddress, long untilAddress, byte[] commitMetadata, long commitNum, bool forceWriteMetadata)
    {
        var path = PathOf(commitNum);
        try
        {
            if (!_directoryExists)
            {
                System.IO.Directory.CreateDirectory(Directory);
                _directoryExists = true;
            }

            int length = sizeof(int) + commitMetadata.Length;
            var record = new byte[(length + SectorSize - 1) & ~(SectorSize - 1)];
            BinaryPrimitives.WriteInt32LittleEndian(record, commitMetadata.Length);
            commitMetadata.CopyTo(record, sizeof(int));
            using (var file = new FileStream(path, FileMode.Create, FileAccess.Write, FileShare.Read, 1))
            {
                file.Write(record);
                file.Flush(flushToDisk: true);
            }
        }
        catch (Exception ex)
        {
            var failure = new StorageException($"The commit record up to address {untilAddress} could not be written: {ex.Message}", path, ex);
            _failed.TrySetResult(failure);
            throw failure;
        }

        // FASTER writes commit records one at a time, so the previous record is the only one to drop; listing the
        // folder on every commit cost a directory scan per group commit. Leftovers (a crash between the write and the
        // delete) are cleared by OnRecovery.
        if (_lastWritten >= 0 && _lastWritten < commitNum)
        {
            RemoveCommit(_lastWritten);
        }

        _lastWritten = commitNum;
    }

    public byte[] GetCommitMetadata(long commitNum)
    {
        var bytes = File.ReadAllBytes(PathOf(commitNum));
        if (bytes.Length < sizeof(int))
        {
            throw new FasterException($"Commit record {commitNum} is torn");
        }

        int size = BinaryPrimitives.ReadInt32LittleEndian(bytes);
        if (size < 0 || size > bytes.Length - sizeof(int))
        {
            throw new FasterException($"Commit record {commitNum} has an invalid length");
        }

        return bytes.AsSpan(sizeof(int), size).ToArray();
    }

    public IEnumerable<long> ListCommits()
    {
        if (!System.IO.Directory.Exists(Directory))
        {
            return [];
        }

        var commits = new List<long>();
        foreach (var path in System.IO.Directory.EnumerateFiles(Directory, Prefix + "*" + Suffix))
        {
            var name = Path.GetFileName(path.AsSpan());
            if (long.TryParse(name[Prefix.Length..^Suffix.Length], NumberStyles.None, CultureInfo.InvariantCulture, out long commitNum))
            {
                commits.Add(commitNum);
            }
        }

        commits.Sort((a, b) => b.CompareTo(a));
        return commits;
    }

    public void RemoveCommit(long commitNum)
    {
        try
        {
            File.Delete(PathOf(commitNum));
        }
        catch (IOException)
        {
            // an outdated record left behind is harmless: recovery takes the newest readable one
        }
    }

    public void RemoveAllCommits()
    {
        foreach (long commitNum in ListCommits())
        {
            RemoveCommit(commitNum);
        }
    }

    public void OnRecovery(long commitNum)
    {
        _lastWritten = commitNum;
        foreach (long other in ListCommits())
        {
            if (other != commitNum)
            {
                RemoveCommit(other);
            }
        }
    }

    public void Dispose()
    {
    }
}
