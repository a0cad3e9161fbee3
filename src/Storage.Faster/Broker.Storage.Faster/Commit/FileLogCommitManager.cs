using System.Buffers.Binary;
using System.Globalization;
using System.Runtime.InteropServices;
using Broker.Core.Storage;
using Broker.Storage.Faster.Records;
using FASTER.core;
using Microsoft.Win32.SafeHandles;

namespace Broker.Storage.Faster.Commit;

/// <summary>
/// Writes a FasterLog's commit records with plain file I/O that reports failure. FASTER's own
/// DeviceLogCommitCheckpointManager loses a failed write (its IOCallback only logs the error and the commit counts as
/// done, and if the file cannot even be created its per-commit device hangs in AsyncPool.Dispose). Here a failed write
/// is recorded (see <see cref="Failed"/>) before it is thrown; FASTER's commit worker swallows the exception and never
/// completes that commit, so the owner must watch <see cref="Failed"/> rather than wait for the commit alone.
/// <para>
/// Records go to one preallocated file, <c>log-commits/commit.slots</c>, with two fixed-size slots written in turn:
/// each commit overwrites the slot that does not hold the newest record, in place, and flushes only the data
/// (<c>fdatasync</c> on Linux): no file is created, extended or deleted per commit, so a commit costs one small write
/// and one data flush, and nothing is allocated here. A slot carries a magic, the commit number, the length and a
/// CRC-32C, so a torn or garbled slot is skipped and recovery takes the newest valid one; the other slot still holds
/// the commit before it, which is all that was acknowledged if the torn write was the last thing done.
/// </para>
/// <para>
/// Stores written before the slot file hold one file per commit, <c>log-commits/commit.N.0</c> (a 4-byte length and
/// FASTER's metadata, FASTER's own layout); they are still read, and deleted once a slot record newer than them is on
/// disk. A metadata block too large for a slot (never with this broker's logs: no named iterators, cookies of 12 bytes)
/// is written in that older layout too.
/// </para>
/// </summary>
internal sealed partial class FileLogCommitManager : ILogCommitManager
{
    public const string SlotFileName = "commit.slots";
    public const int SlotSize = 4096;
    private const int SlotCount = 2;
    private const int SlotHeaderSize = 24; // magic, CRC-32C of the rest, commit number, metadata length, reserved
    private const string LegacyPrefix = "commit.";
    private const string LegacySuffix = ".0";
    private const int SectorSize = 512;
    private const int FasterMetadataSize = 44;
    private static ReadOnlySpan<byte> SlotMagic => "BCS1"u8;

    private readonly TaskCompletionSource<StorageException> _failed = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly byte[] _slotBuffer = new byte[SlotSize];
    private readonly long[] _slotCommit = [-1, -1];
    private readonly Lock _writeLock = new();
    private long _lastNumber; // the highest record number on disk or written
    private long _lastFasterCommit;
    private SafeFileHandle? _slots;
    private FileStream? _flusher; // fsync where fdatasync is not available
    private int _newestSlot = -1;
    private bool _legacyMayExist = true;
    private long _lastLegacyWritten = -1;

    public FileLogCommitManager(string directory)
    {
        Directory = directory;
        SlotFilePath = Path.Combine(directory, SlotFileName);
        ReadSlots();
        foreach (long legacy in ListLegacy())
        {
            _lastNumber = Math.Max(_lastNumber, legacy);
        }
    }

    public string Directory { get; }

    public string SlotFilePath { get; }

    /// <summary>Completes with the first failed write of a commit record; the log must stop acknowledging then.</summary>
    public Task<StorageException> Failed => _failed.Task;

    public StorageException? Failure => _failed.Task.IsCompleted ? _failed.Task.Result : null;

    /// <summary>Called (on FASTER's commit thread) once a write has failed, after <see cref="Failure"/> is set.</summary>
    public Action? FailureObserved { get; set; }

    /// <summary>The file of a commit record in the layout before the slot file.</summary>
    public string LegacyPathOf(long commitNum) => Path.Combine(Directory, LegacyPrefix + commitNum.ToString(CultureInfo.InvariantCulture) + LegacySuffix);

    /// <summary>The newest commit number on disk, or 0 when there is none.</summary>
    public long LatestCommit
    {
        get
        {
            foreach (long commit in ListCommits())
            {
                return commit;
            }

            return 0;
        }
    }

    /// <summary>
    /// FASTER's commit (truncations, the tail cut, shutdown). Records are numbered by this manager: FASTER's own commit
    /// number lags behind the records <see cref="CommitFlushed"/> writes, and the newest record must carry the highest number.
    /// </summary>
    public void Commit(long beginAddress, long untilAddress, byte[] commitMetadata, long commitNum, bool forceWriteMetadata)
    {
        lock (_writeLock)
        {
            long number = Math.Max(commitNum, _lastNumber + 1);
            if (commitMetadata.Length > SlotSize - SlotHeaderSize)
            {
                WriteLegacy(untilAddress, commitMetadata, number);
            }
            else
            {
                WriteSlot(untilAddress, commitMetadata, number);
            }

            _lastNumber = number;
            Volatile.Write(ref _lastFasterCommit, Math.Max(_lastFasterCommit, commitNum));
        }
    }

    /// <summary>The highest FASTER commit number whose record this manager has written (0 before the first).</summary>
    public long LastFasterCommit => Volatile.Read(ref _lastFasterCommit);

    /// <summary>
    /// Makes <paramref name="untilAddress"/> the recovery point of a log whose pages below it are already on disk:
    /// FASTER's commit metadata for it (no iterators, no cookie; FASTER's layout, so <c>FasterLog.Recover</c> reads it)
    /// written into a slot without allocating. The group commit calls this instead of FASTER's commit.
    /// </summary>
    public void CommitFlushed(long beginAddress, long untilAddress)
    {
        lock (_writeLock)
        {
            long number = _lastNumber + 1;
            Span<byte> metadata = stackalloc byte[FasterMetadataSize];
            WriteFasterMetadata(metadata, beginAddress, untilAddress, number);
            WriteSlot(untilAddress, metadata, number);
            _lastNumber = number;
        }
    }

    /// <summary>Version 1 of FASTER's <c>FasterLogRecoveryInfo</c> (what its <c>ToByteArray</c> writes) with no iterators and no cookie.</summary>
    internal static void WriteFasterMetadata(Span<byte> destination, long beginAddress, long untilAddress, long commitNum)
    {
        const int version = 1;
        const int iteratorCount = 0;
        const int cookieLength = -1; // no cookie
        BinaryPrimitives.WriteInt32LittleEndian(destination, version);
        BinaryPrimitives.WriteInt64LittleEndian(destination[4..], beginAddress ^ untilAddress ^ commitNum ^ iteratorCount ^ cookieLength);
        BinaryPrimitives.WriteInt64LittleEndian(destination[12..], beginAddress);
        BinaryPrimitives.WriteInt64LittleEndian(destination[20..], untilAddress);
        BinaryPrimitives.WriteInt64LittleEndian(destination[28..], commitNum);
        BinaryPrimitives.WriteInt32LittleEndian(destination[36..], iteratorCount);
        BinaryPrimitives.WriteInt32LittleEndian(destination[40..], cookieLength);
    }

    private void WriteSlot(long untilAddress, ReadOnlySpan<byte> commitMetadata, long number)
    {
        int slot = _newestSlot == 0 ? 1 : 0;
        try
        {
            var handle = _slots ?? OpenSlotFile();
            var record = _slotBuffer.AsSpan();
            record.Clear();
            SlotMagic.CopyTo(record);
            BinaryPrimitives.WriteInt64LittleEndian(record[8..], number);
            BinaryPrimitives.WriteInt32LittleEndian(record[16..], commitMetadata.Length);
            commitMetadata.CopyTo(record[SlotHeaderSize..]);
            BinaryPrimitives.WriteUInt32LittleEndian(record[4..], Crc32C.Compute(record[8..(SlotHeaderSize + commitMetadata.Length)]));
            RandomAccess.Write(handle, _slotBuffer, (long)slot * SlotSize);
            FlushData(handle);
        }
        catch (Exception ex)
        {
            throw Failing(untilAddress, SlotFilePath, ex);
        }

        _slotCommit[slot] = number;
        _newestSlot = slot;
        if (_legacyMayExist)
        {
            // The slot record is newer than any record in the older layout: those can go now.
            _legacyMayExist = false;
            foreach (long legacy in ListLegacy())
            {
                DeleteLegacy(legacy);
            }
        }
    }

    private StorageException Failing(long untilAddress, string path, Exception ex)
    {
        var failure = new StorageException($"The commit record up to address {untilAddress} could not be written: {ex.Message}", path, ex);
        _failed.TrySetResult(failure);
        FailureObserved?.Invoke();
        return failure;
    }

    /// <summary>
    /// Opens the slot file, creating it (both slots zeroed, flushed with the folder entry) if it is missing or short;
    /// after that every commit writes inside it and the file's size and blocks never change.
    /// </summary>
    private SafeFileHandle OpenSlotFile()
    {
        System.IO.Directory.CreateDirectory(Directory);
        var handle = File.OpenHandle(SlotFilePath, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.Read);
        _flusher = OperatingSystem.IsLinux() ? null : new FileStream(handle, FileAccess.ReadWrite, 0);
        try
        {
            long length = RandomAccess.GetLength(handle);
            if (length < SlotCount * SlotSize)
            {
                // Zero what is missing, keeping a slot that is already there (it may hold the newest record).
                var zeros = new byte[SlotSize];
                for (int slot = 0; slot < SlotCount; slot++)
                {
                    if ((long)(slot + 1) * SlotSize > length)
                    {
                        RandomAccess.Write(handle, zeros, (long)slot * SlotSize);
                    }
                }

                Flush(handle, dataOnly: false);
                FlushDirectory(Directory);
            }
        }
        catch
        {
            _flusher?.Dispose();
            _flusher = null;
            handle.Dispose();
            throw;
        }

        _slots = handle;
        return handle;
    }

    private void FlushData(SafeFileHandle handle) => Flush(handle, dataOnly: true);

    private void Flush(SafeFileHandle handle, bool dataOnly)
    {
        if (_flusher is not null)
        {
            _flusher.Flush(flushToDisk: true);
            return;
        }

        bool added = false;
        try
        {
            handle.DangerousAddRef(ref added);
            int fd = (int)handle.DangerousGetHandle();
            if ((dataOnly ? Fdatasync(fd) : Fsync(fd)) != 0)
            {
                int errno = Marshal.GetLastPInvokeError();
                throw new IOException($"{(dataOnly ? "fdatasync" : "fsync")} failed with errno {errno} ({Marshal.GetPInvokeErrorMessage(errno)})");
            }
        }
        finally
        {
            if (added)
            {
                handle.DangerousRelease();
            }
        }
    }

    /// <summary>Makes a new file's folder entry durable (Linux; elsewhere the file system journals it).</summary>
    private static void FlushDirectory(string directory)
    {
        if (!OperatingSystem.IsLinux())
        {
            return;
        }

        int fd = Open(directory, 0 /* O_RDONLY */);
        if (fd < 0)
        {
            return;
        }

        try
        {
            _ = Fsync(fd);
        }
        finally
        {
            _ = Close(fd);
        }
    }

    [LibraryImport("libc", EntryPoint = "fdatasync", SetLastError = true)]
    private static partial int Fdatasync(int fd);

    [LibraryImport("libc", EntryPoint = "fsync", SetLastError = true)]
    private static partial int Fsync(int fd);

    [LibraryImport("libc", EntryPoint = "open", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static partial int Open(string path, int flags);

    [LibraryImport("libc", EntryPoint = "close", SetLastError = true)]
    private static partial int Close(int fd);

    private void WriteLegacy(long untilAddress, byte[] commitMetadata, long commitNum)
    {
        var path = LegacyPathOf(commitNum);
        try
        {
            System.IO.Directory.CreateDirectory(Directory);
            int length = sizeof(int) + commitMetadata.Length;
            var record = new byte[(length + SectorSize - 1) & ~(SectorSize - 1)];
            BinaryPrimitives.WriteInt32LittleEndian(record, commitMetadata.Length);
            commitMetadata.CopyTo(record, sizeof(int));
            using var file = new FileStream(path, FileMode.Create, FileAccess.Write, FileShare.Read, 1);
            file.Write(record);
            file.Flush(flushToDisk: true);
        }
        catch (Exception ex)
        {
            throw Failing(untilAddress, path, ex);
        }

        if (_lastLegacyWritten >= 0 && _lastLegacyWritten < commitNum)
        {
            DeleteLegacy(_lastLegacyWritten);
        }

        _lastLegacyWritten = commitNum;
        _legacyMayExist = true;
    }

    /// <summary>Reads both slots: which commits they hold and which one is the newest.</summary>
    private void ReadSlots()
    {
        _slotCommit[0] = _slotCommit[1] = -1;
        _newestSlot = -1;
        if (!File.Exists(SlotFilePath))
        {
            return;
        }

        using var handle = File.OpenHandle(SlotFilePath, FileMode.Open, FileAccess.Read, FileShare.ReadWrite);
        var buffer = new byte[SlotSize];
        for (int slot = 0; slot < SlotCount; slot++)
        {
            if (TryReadSlot(handle, slot, buffer, out long commitNum, out _))
            {
                _slotCommit[slot] = commitNum;
                if (_newestSlot < 0 || commitNum > _slotCommit[_newestSlot])
                {
                    _newestSlot = slot;
                }

                _lastNumber = Math.Max(_lastNumber, commitNum);
            }
        }
    }

    private static bool TryReadSlot(SafeFileHandle handle, int slot, byte[] buffer, out long commitNum, out int length)
    {
        commitNum = -1;
        length = 0;
        if (RandomAccess.Read(handle, buffer, (long)slot * SlotSize) != SlotSize)
        {
            return false;
        }

        var record = buffer.AsSpan();
        if (!record.StartsWith(SlotMagic))
        {
            return false;
        }

        length = BinaryPrimitives.ReadInt32LittleEndian(record[16..]);
        if (length < 0 || length > SlotSize - SlotHeaderSize
            || BinaryPrimitives.ReadUInt32LittleEndian(record[4..]) != Crc32C.Compute(record[8..(SlotHeaderSize + length)]))
        {
            return false;
        }

        commitNum = BinaryPrimitives.ReadInt64LittleEndian(record[8..]);
        return commitNum >= 0;
    }

    public byte[] GetCommitMetadata(long commitNum)
    {
        if (File.Exists(SlotFilePath))
        {
            using var handle = File.OpenHandle(SlotFilePath, FileMode.Open, FileAccess.Read, FileShare.ReadWrite);
            var buffer = new byte[SlotSize];
            for (int slot = 0; slot < SlotCount; slot++)
            {
                if (TryReadSlot(handle, slot, buffer, out long found, out int length) && found == commitNum)
                {
                    return buffer.AsSpan(SlotHeaderSize, length).ToArray();
                }
            }
        }

        var bytes = File.ReadAllBytes(LegacyPathOf(commitNum));
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

    /// <summary>Every readable commit, newest first: valid slots and records in the older one-file-per-commit layout.</summary>
    public IEnumerable<long> ListCommits()
    {
        if (_slots is null)
        {
            ReadSlots(); // before the first write: the files may have changed since this manager was made
        }

        var commits = ListLegacy();
        foreach (long commit in _slotCommit)
        {
            if (commit >= 0 && !commits.Contains(commit))
            {
                commits.Add(commit);
            }
        }

        commits.Sort((a, b) => b.CompareTo(a));
        return commits;
    }

    private List<long> ListLegacy()
    {
        var commits = new List<long>();
        if (!System.IO.Directory.Exists(Directory))
        {
            return commits;
        }

        foreach (var path in System.IO.Directory.EnumerateFiles(Directory, LegacyPrefix + "*" + LegacySuffix))
        {
            var name = Path.GetFileName(path.AsSpan());
            if (long.TryParse(name[LegacyPrefix.Length..^LegacySuffix.Length], NumberStyles.None, CultureInfo.InvariantCulture, out long commitNum))
            {
                commits.Add(commitNum);
            }
        }

        return commits;
    }

    public void RemoveCommit(long commitNum)
    {
        for (int slot = 0; slot < SlotCount; slot++)
        {
            if (_slotCommit[slot] == commitNum && _slots is not null)
            {
                try
                {
                    RandomAccess.Write(_slots, new byte[SlotHeaderSize], (long)slot * SlotSize);
                    FlushData(_slots);
                    _slotCommit[slot] = -1;
                }
                catch (IOException)
                {
                    // an outdated record left behind is harmless: recovery takes the newest readable one
                }
            }
        }

        DeleteLegacy(commitNum);
    }

    private void DeleteLegacy(long commitNum)
    {
        try
        {
            File.Delete(LegacyPathOf(commitNum));
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

    /// <summary>FASTER recovered <paramref name="commitNum"/>: the next record goes to the other slot, so this one stays.</summary>
    public void OnRecovery(long commitNum)
    {
        for (int slot = 0; slot < SlotCount; slot++)
        {
            if (_slotCommit[slot] == commitNum)
            {
                _newestSlot = slot;
            }
        }
    }

    public void Dispose()
    {
        _flusher?.Dispose();
        _slots?.Dispose();
        _slots = null;
        _flusher = null;
    }
}
