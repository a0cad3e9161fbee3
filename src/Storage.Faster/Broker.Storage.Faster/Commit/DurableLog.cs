using Broker.Core.Storage;
using Broker.Storage.Faster.Recovery;
using FASTER.core;
using Microsoft.Extensions.Logging;

namespace Broker.Storage.Faster.Commit;

/// <summary>
/// One FasterLog on disk with its group-commit loop: opening checks the files and recovers the last commit;
/// appends are committed together, and the durability queue tells waiters when their record is on disk.
/// </summary>
internal sealed class DurableLog : IAsyncDisposable
{
    public const long FirstAddress = 64; // FASTER's first valid logical address

    private readonly LogSizes _sizes;
    private readonly GroupCommitOptions _commit;
    private readonly ILogger _logger;
    private readonly SemaphoreSlim _wake = new(0);
    private readonly SemaphoreSlim _full = new(0);
    private readonly CancellationTokenSource _stop = new();
    private IDevice _device;
    private long _pendingBytes;
    private int _commitRequested;
    private Task? _loop;

    private DurableLog(string directory, string name, LogSizes sizes, GroupCommitOptions commit, ILogger logger)
    {
        Directory = directory;
        Name = name;
        _sizes = sizes;
        _commit = commit;
        _logger = logger;
        DevicePath = Path.Combine(directory, name + ".log");
        CommitDirectory = Path.Combine(directory, "log-commits");
        _device = Devices.CreateLogDevice(DevicePath, recoverDevice: true);
        Log = new FasterLog(Settings(_device));
        Queue = new DurabilityQueue(FirstAddress);
    }

    public string Directory { get; }

    public string Name { get; }

    public string DevicePath { get; }

    public string CommitDirectory { get; }

    public FasterLog Log { get; private set; }

    public DurabilityQueue Queue { get; }

    public CommitSignal Committed { get; } = new();

    public int PageSizeBits => _sizes.PageSizeBits;

    /// <summary>
    /// Opens the log and recovers its last commit. <paramref name="expectedAtLeast"/> is a durable address the
    /// manifest saw earlier: recovering to less means commit metadata was lost, which must not pass silently.
    /// </summary>
    public static DurableLog Open(string directory, string name, LogSizes sizes, GroupCommitOptions commit, long expectedAtLeast, ILogger logger)
    {
        System.IO.Directory.CreateDirectory(directory);
        var commitDirectory = Path.Combine(directory, "log-commits");
        bool hadCommits = System.IO.Directory.Exists(commitDirectory) && System.IO.Directory.EnumerateFileSystemEntries(commitDirectory).Any();
        var log = new DurableLog(directory, name, sizes, commit, logger);
        try
        {
            log.Recover(hadCommits, expectedAtLeast);
            return log;
        }
        catch
        {
            log.Log.Dispose();
            log._device.Dispose();
            throw;
        }
    }

    private FasterLogSettings Settings(IDevice device) => new()
    {
        LogDevice = device,
        PageSizeBits = _sizes.PageSizeBits,
        MemorySizeBits = _sizes.MemorySizeBits,
        SegmentSizeBits = _sizes.SegmentSizeBits,
        LogCommitDir = Directory,
        TryRecoverLatest = false, // FASTER's own recovery swallows errors and yields an empty log
        LogChecksum = LogChecksumType.None, // our records carry their own CRC-32C
        FastCommitMode = false,
    };

    private void Recover(bool hadCommits, long expectedAtLeast)
    {
        try
        {
            Log.Recover();
        }
        catch (Exception ex)
        {
            throw new StorageException($"The {Name} log could not be recovered from its commit metadata", CommitDirectory, ex);
        }

        long committed = Log.CommittedUntilAddress;
        if (committed < expectedAtLeast)
        {
            throw new StorageException(
                $"The {Name} log recovered only up to address {committed}, but the manifest recorded {expectedAtLeast} as durable: its commit metadata is missing or corrupt",
                CommitDirectory);
        }

        if (hadCommits && committed <= FirstAddress && SegmentHoldsData(0))
        {
            throw new StorageException($"The {Name} log has data but none of its commit records can be read", CommitDirectory);
        }

        CheckSegments(Log.BeginAddress, committed);
        Queue.Advance(committed);
    }

    private bool SegmentHoldsData(long segment)
    {
        var file = new FileInfo(SegmentPath(segment));
        return file.Exists && file.Length > FirstAddress;
    }

    public string SegmentPath(long segment) => $"{DevicePath}.{segment}";

    public string SegmentPathFor(long address) => SegmentPath(address >> _sizes.SegmentSizeBits);

    private void CheckSegments(long begin, long committed)
    {
        if (committed <= begin)
        {
            return;
        }

        for (long segment = begin >> _sizes.SegmentSizeBits; segment <= (committed - 1) >> _sizes.SegmentSizeBits; segment++)
        {
            if (!File.Exists(SegmentPath(segment)))
            {
                throw new StorageException($"A segment of the {Name} log holding committed data is missing", SegmentPath(segment));
            }
        }
    }

    /// <summary>
    /// Reads <paramref name="from"/>..committed record by record. A torn or corrupt record ends the log there:
    /// everything before it is kept, the rest is dropped (and reported), and the shortened log is committed.
    /// </summary>
    public LogScanResult VerifyAndRepair(long from, IRecordVisitor visitor)
    {
        long committed = Log.CommittedUntilAddress;
        from = Math.Max(from, Log.BeginAddress);
        var result = LogScanner.Scan(Log, from, committed, _sizes.PageSizeBits, visitor);
        if (result.Clean)
        {
            return result;
        }

        long cut = result.CorruptAt;
        string file = SegmentPathFor(cut);
        StorageLog.TailDropped(_logger, Name, file, cut, committed, committed - cut, result.Reason ?? "corrupt");
        CutTail(cut);
        return result;
    }

    /// <summary>The first page start at or before <paramref name="address"/>, not before the log's begin.</summary>
    public long PageStartBefore(long address)
        => Math.Max(Log.BeginAddress, address & ~((1L << _sizes.PageSizeBits) - 1));

    private void CutTail(long newTail)
    {
        long begin = Log.BeginAddress;
        long lastCommit = LastCommitNumber();
        Log.Dispose();
        _device.Dispose();
        _device = Devices.CreateLogDevice(DevicePath, recoverDevice: true);
        Log = new FasterLog(Settings(_device));
        Log.Initialize(begin, newTail, lastCommit);
        // A cookie forces FASTER to write the commit although the tail has not moved since Initialize.
        Log.CommitStrongly(out _, out _, spinWait: true, cookie: [1]);
    }

    private long LastCommitNumber()
    {
        long last = 0;
        if (System.IO.Directory.Exists(CommitDirectory))
        {
            foreach (var path in System.IO.Directory.EnumerateFileSystemEntries(CommitDirectory))
            {
                var name = Path.GetFileName(path);
                int dot = name.IndexOf('.', StringComparison.Ordinal);
                var digits = name.AsSpan(dot + 1);
                int end = digits.IndexOf('.');
                if (end >= 0)
                {
                    digits = digits[..end];
                }

                if (long.TryParse(digits, out long number) && number > last)
                {
                    last = number;
                }
            }
        }

        return last;
    }

    public void StartCommitLoop() => _loop ??= Task.Run(CommitLoopAsync);

    /// <summary>Throws the failure that stopped the log, naming its file, so nothing is acknowledged after it.</summary>
    public void ThrowIfFailed()
    {
        if (Queue.Failure is { } failure)
        {
            throw new StorageException($"The {Name} log stopped after a write failure: {failure.Message}", DevicePath, failure);
        }
    }

    /// <summary>Tells the commit loop that <paramref name="bytes"/> more are waiting.</summary>
    public void OnAppended(int bytes)
    {
        long pending = Interlocked.Add(ref _pendingBytes, bytes);
        if (Interlocked.Exchange(ref _commitRequested, 1) == 0)
        {
            _wake.Release();
        }
        else if (pending >= _commit.MaxBytes && pending - bytes < _commit.MaxBytes)
        {
            _full.Release();
        }
    }

    private async Task CommitLoopAsync()
    {
        var token = _stop.Token;
        while (true)
        {
            try
            {
                await _wake.WaitAsync(token).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                break;
            }

            if (_commit.MaxDelay > TimeSpan.Zero && Volatile.Read(ref _pendingBytes) < _commit.MaxBytes)
            {
                try
                {
                    await _full.WaitAsync(_commit.MaxDelay, token).ConfigureAwait(false);
                }
                catch (OperationCanceledException)
                {
                    // commit what is pending before stopping
                }
            }

            if (!await CommitOnceAsync().ConfigureAwait(false))
            {
                return;
            }
        }

        await CommitOnceAsync().ConfigureAwait(false); // the final commit finishes pending acknowledgements
    }

    private async Task<bool> CommitOnceAsync()
    {
        Volatile.Write(ref _commitRequested, 0);
        Interlocked.Exchange(ref _pendingBytes, 0);
        while (_full.CurrentCount > 0)
        {
            _full.Wait(0);
        }

        try
        {
            await Log.CommitAsync().ConfigureAwait(false);
        }
        catch (Exception ex)
        {
            StorageLog.CommitFailed(_logger, ex, Name, DevicePath);
            Queue.Fail(new StorageException($"Commit of the {Name} log failed", DevicePath, ex));
            Committed.Close();
            return false;
        }

        Queue.Advance(Log.CommittedUntilAddress);
        Committed.Pulse();
        return true;
    }

    /// <summary>Commits what is pending now, truncations included, and waits for it (checkpoints, shutdown).</summary>
    public async ValueTask FlushAsync()
    {
        ThrowIfFailed();
        try
        {
            await Log.CommitAsync().ConfigureAwait(false);
        }
        catch (Exception ex)
        {
            StorageLog.CommitFailed(_logger, ex, Name, DevicePath);
            Queue.Fail(new StorageException($"Commit of the {Name} log failed", DevicePath, ex));
            Committed.Close();
            throw;
        }

        Queue.Advance(Log.CommittedUntilAddress);
        Committed.Pulse();
    }

    public async ValueTask DisposeAsync()
    {
        if (_loop is not null)
        {
            await _stop.CancelAsync().ConfigureAwait(false);
            await _loop.ConfigureAwait(false);
        }

        Committed.Close();
        Log.Dispose();
        _device.Dispose();
        _stop.Dispose();
        _wake.Dispose();
        _full.Dispose();
    }
}
