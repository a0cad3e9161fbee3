using System.Buffers.Binary;
using System.Reflection;
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
    private readonly RoomWaiter _room = new();
    private readonly GroupCommitOptions _commit;
    private readonly ILogger _logger;
    /// <summary>
    /// FASTER's internal commit task (completes after each commit, faults when a page write fails). Awaiting it directly
    /// spares the commit loop the state machine, <c>AsTask</c> and <c>WhenAny</c> objects of <c>CommitAsync</c> per commit.
    /// </summary>
    private static readonly Func<FasterLog, Task<LinkedCommitInfo>> CommitTaskOf =
        typeof(FasterLog).GetProperty("CommitTask", BindingFlags.NonPublic | BindingFlags.Instance)?.GetMethod?
            .CreateDelegate<Func<FasterLog, Task<LinkedCommitInfo>>>()
        ?? throw new InvalidOperationException("FasterLog.CommitTask was not found (FASTER 2.6.5 has it)");

    private readonly BlockingSignal _wake = new();
    private readonly BlockingSignal _commitDone = new();
    private readonly Action _onCommitDone;
    private volatile bool _stopping;
    private readonly SemaphoreSlim _full = new(0);
    private readonly CancellationTokenSource _stop = new();
    private readonly FileLogCommitManager _commits;
    private readonly Action<int, uint> _onPageWritten;
    private readonly Func<long> _durableUntil;
    private readonly Lock _fasterCommitLock = new();
    private TaskCompletionSource<StorageException?>? _fasterCommit;
    private StorageException? _pageWriteFailure;
    private SegmentFileDevice _device;
    private TailPageWriter _tail;
    private long _appendedUntil; // the end of the last record appended (appends are serialized by the caller)
    private long _pendingBytes;
    private int _commitRequested;
    private long _groupCommits;
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
        _commits = new FileLogCommitManager(CommitDirectory);
        _onCommitDone = _commitDone.Set;
        _commits.FailureObserved = _onCommitDone;
        _onPageWritten = OnPageWritten;
        _durableUntil = DurableUntilAddress;
        _device = new SegmentFileDevice(DevicePath, recoverDevice: true) { WriteCompleted = _onPageWritten, DurableUntil = _durableUntil };
        Log = new FasterLog(Settings(_device));
        _tail = new TailPageWriter(Log, _device, sizes.PageSizeBits, sizes.MemorySizeBits, sizes.SegmentSizeBits);
        Queue = new DurabilityQueue(FirstAddress, ex => StorageLog.CallbackFailed(_logger, ex, Name));
    }

    public string Directory { get; }

    public string Name { get; }

    public string DevicePath { get; }

    public string CommitDirectory { get; }

    public FasterLog Log { get; private set; }

    public DurabilityQueue Queue { get; }

    public CommitSignal Committed { get; } = new();

    public int PageSizeBits => _sizes.PageSizeBits;

    /// <summary>Commits the group-commit loop has made: allocation budgets take FASTER's per-commit cost out with it.</summary>
    public long GroupCommits => Volatile.Read(ref _groupCommits);

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
            log._tail.Dispose();
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
        LogCommitManager = _commits, // FASTER's own loses failed commit-record writes (see FileLogCommitManager)
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
        if (committed < expectedAtLeast && !(TryReadCutCookie(Log.RecoveredCookie, out long cutFrom) && cutFrom >= expectedAtLeast))
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
        _appendedUntil = committed;
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
        CutTail(cut, committed);
        return result;
    }

    /// <summary>The first page start at or before <paramref name="address"/>, not before the log's begin.</summary>
    public long PageStartBefore(long address)
        => Math.Max(Log.BeginAddress, address & ~((1L << _sizes.PageSizeBits) - 1));

    /// <summary>
    /// Makes <paramref name="newTail"/> the committed end of the log. FASTER's <c>Initialize</c> sets the tail but leaves
    /// the tail page out of memory, so the first flush after it would write the zeroed start of that sector over the
    /// records just before the cut; recovering again from the commit written here loads that page from disk, as every
    /// normal recovery does. Until the owner lowers the manifest, the commit's cookie records that the log was cut on
    /// purpose from <paramref name="oldCommitted"/>, so a crash in between is not mistaken for lost commit metadata.
    /// </summary>
    private void CutTail(long newTail, long oldCommitted)
    {
        long begin = Log.BeginAddress;
        long lastCommit = _commits.LatestCommit;
        Reopen();
        Log.Initialize(begin, newTail, lastCommit);
        // The cookie also forces FASTER to write the commit although the tail has not moved since Initialize.
        var commit = Log.CommitStronglyAsync(CutCookie(oldCommitted)).AsTask();
        if (Task.WhenAny(commit, _commits.Failed).GetAwaiter().GetResult() != commit)
        {
            throw _commits.Failed.Result;
        }

        if (!commit.GetAwaiter().GetResult().success)
        {
            throw new StorageException($"The {Name} log could not commit its tail cut at {newTail}", CommitDirectory);
        }

        Reopen();
        try
        {
            Log.Recover();
        }
        catch (Exception ex)
        {
            throw new StorageException($"The {Name} log could not be reopened after cutting its tail at {newTail}", CommitDirectory, ex);
        }

        if (Log.CommittedUntilAddress != newTail)
        {
            throw new StorageException(
                $"The {Name} log recovered up to {Log.CommittedUntilAddress} after cutting its tail at {newTail}", CommitDirectory);
        }

        Queue.Reset(newTail);
        _appendedUntil = newTail;
    }

    private void Reopen()
    {
        Log.Dispose();
        _tail.Dispose();
        _device.Dispose();
        _device = new SegmentFileDevice(DevicePath, recoverDevice: true) { WriteCompleted = _onPageWritten, DurableUntil = _durableUntil };
        Log = new FasterLog(Settings(_device));
        _tail = new TailPageWriter(Log, _device, _sizes.PageSizeBits, _sizes.MemorySizeBits, _sizes.SegmentSizeBits);
    }

    private static ReadOnlySpan<byte> CutCookieMagic => "BCUT"u8;

    private static byte[] CutCookie(long cutFrom)
    {
        var cookie = new byte[CutCookieMagic.Length + sizeof(long)];
        CutCookieMagic.CopyTo(cookie);
        BinaryPrimitives.WriteInt64LittleEndian(cookie.AsSpan(CutCookieMagic.Length), cutFrom);
        return cookie;
    }

    private static bool TryReadCutCookie(byte[]? cookie, out long cutFrom)
    {
        cutFrom = 0;
        if (cookie is null || cookie.Length != CutCookieMagic.Length + sizeof(long) || !cookie.AsSpan().StartsWith(CutCookieMagic))
        {
            return false;
        }

        cutFrom = BinaryPrimitives.ReadInt64LittleEndian(cookie.AsSpan(CutCookieMagic.Length));
        return true;
    }

    /// <summary>
    /// Starts the commit loop on a thread of its own. It blocks on the disk for every commit and must wake the moment
    /// appends arrive: on the thread pool it would hold a worker through each write and, under load, wait in the pool's
    /// queue behind the very connections whose acknowledgements it holds back.
    /// </summary>
    public void StartCommitLoop()
    {
        if (_loop is not null)
        {
            return;
        }

        var done = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        _loop = done.Task;
        var thread = new Thread(() =>
        {
            try
            {
                CommitLoop();
            }
            catch (Exception ex)
            {
                // Not a commit failure (those are handled inside) and not a callback (the queue reports those): a bug. On
                // this thread it would take the process down; stopping the log keeps the other partitions serving.
                Fail(ex);
            }
            finally
            {
                done.SetResult();
            }
        })
        {
            IsBackground = true,
            Name = $"broker commit {Name}",
        };
        thread.Start();
    }

    /// <summary>Throws the failure that stopped the log, naming its file, so nothing is acknowledged after it.</summary>
    public void ThrowIfFailed()
    {
        if (Queue.Failure is { } failure)
        {
            throw new StorageException($"The {Name} log stopped after a write failure ({failure.InnerException?.Message ?? failure.Message})",
                (failure as StorageException)?.Path ?? DevicePath, failure);
        }
    }

    /// <summary>
    /// A commit failed (a write error such as a full disk): stop the log, fail every waiter and every later append,
    /// and return the failure, naming the segment file whose write failed when FASTER says which.
    /// </summary>
    private StorageException Fail(Exception ex)
    {
        string path = ex switch
        {
            StorageException storage => storage.Path, // a commit record that could not be written
            CommitFailureException commit => SegmentPathFor(commit.LinkedCommitInfo.CommitInfo.FromAddress), // a page write
            _ => DevicePath,
        };
        StorageLog.CommitFailed(_logger, ex, Name, path);
        var failure = new StorageException($"Commit of the {Name} log failed", path, ex);
        Queue.Fail(failure);
        Committed.Close();
        return failure;
    }

    /// <summary>
    /// Appends one record and tells the commit loop. The caller holds its own append lock (records of one log are
    /// appended one at a time), which is what lets one reused waiter serve <see cref="WaitForRoom"/>. A FASTER
    /// failure (a canned commit failure, say) stops the log and surfaces as a <see cref="StorageException"/> naming
    /// the file.
    /// </summary>
    public long Enqueue<T>(T entry, out long endAddress) where T : ILogEnqueueEntry
    {
        ThrowIfFailed();
        int length = entry.SerializedLength;
        WaitForRoom(length);
        long address;
        try
        {
            address = Log.Enqueue(entry);
        }
        catch (FasterException ex)
        {
            throw Fail(ex);
        }

        endAddress = address + EntrySize(length);
        Volatile.Write(ref _appendedUntil, endAddress); // before the commit loop hears of it
        OnAppended(length);
        return address;
    }

    /// <summary>Bytes a record of <paramref name="length"/> takes in the log: FASTER's header, 4-byte aligned.</summary>
    private long EntrySize(int length) => Log.HeaderSize + ((length + 3) & ~3);

    /// <summary>Calls <paramref name="callback"/> once everything below <paramref name="endAddress"/> is durable.</summary>
    public void WhenDurable(long endAddress, IDurabilityCallback callback, long token) => Queue.Register(endAddress, callback, token);

    /// <summary>Completes once everything below <paramref name="endAddress"/> is durable (cold paths: one task per wait).</summary>
    public Task WaitDurableAsync(long endAddress, CancellationToken cancellationToken)
    {
        var waiter = new TaskDurabilityCallback();
        Queue.Register(endAddress, waiter, 0);
        return waiter.Task.WaitAsync(cancellationToken);
    }

    /// <summary>
    /// Back-pressure without spinning. A record that does not fit in the tail page goes to the next page, which
    /// FASTER hands out only once the page a whole memory buffer earlier has been flushed; until then
    /// <c>FasterLog.Enqueue</c> retries in a <c>Thread.Yield</c> loop, and every retry allocates two closures in
    /// <c>AllocatorBase.TryAllocate</c>: hundreds of kilobytes per stall whenever appends outrun the disk. So the
    /// append waits here, on the durability queue (one reused callback, no allocation), until a commit has made
    /// that page durable, and therefore flushed. It blocks the appending thread: asynchronous back-pressure that
    /// stops a connection from reading instead is the connection layer's job.
    /// </summary>
    private void WaitForRoom(int entryLength)
    {
        long needed;
        while ((needed = RoomNeeded(entryLength)) > 0)
        {
            OnAppended(0); // make sure a commit is coming
            _room.Wait(Queue, needed + 1); // see RoomNeeded
            ThrowIfFailed();
        }
    }

    /// <summary>
    /// The flushed address FASTER needs before a record of <paramref name="entryLength"/> bytes can be appended
    /// without waiting, or 0 when it can be appended now. It is a page start; waiters wait for a commit one byte past
    /// it: the group commit writes the tail page itself but commits only once FASTER has written every page before
    /// it, so a commit reaching into the page that starts there means FASTER has flushed up to it.
    /// </summary>
    public long RoomNeeded(int entryLength)
    {
        int pageBits = _sizes.PageSizeBits;
        long pageSize = 1L << pageBits;
        long bufferPages = 1L << (_sizes.MemorySizeBits - pageBits);
        long allocated = EntrySize(entryLength);
        long tail = Log.TailAddress;
        long page = tail >> pageBits;
        if ((tail & (pageSize - 1)) + allocated > pageSize)
        {
            page++;
        }

        // FASTER's AllocatorBase.NeedToWait: page >= BufferSize + (FlushedUntilAddress >> LogPageSizeBits)
        long needed = (page - bufferPages + 1) << pageBits;
        return needed <= Log.FlushedUntilAddress ? 0 : needed;
    }

    /// <summary>Completes once a record of <paramref name="entryLength"/> bytes fits without waiting (asynchronous back-pressure).</summary>
    public async ValueTask WaitForRoomAsync(int entryLength, CancellationToken cancellationToken)
    {
        long needed;
        while ((needed = RoomNeeded(entryLength)) > 0)
        {
            ThrowIfFailed();
            OnAppended(0);
            await WaitDurableAsync(needed + 1, cancellationToken).ConfigureAwait(false); // only while the disk lags; see RoomNeeded
        }
    }

    /// <summary>Tells the commit loop that <paramref name="bytes"/> more are waiting.</summary>
    public void OnAppended(int bytes)
    {
        long pending = Interlocked.Add(ref _pendingBytes, bytes);
        if (Interlocked.Exchange(ref _commitRequested, 1) == 0)
        {
            _wake.Set();
        }
        else if (pending >= _commit.MaxBytes && pending - bytes < _commit.MaxBytes)
        {
            _full.Release();
        }
    }

    /// <summary>
    /// The group commit, on the log's own thread: wait until something is appended, make it durable, tell the
    /// durability queue and the readers, again. The thread blocks on reusable signals, and neither FASTER's commit nor
    /// its page flush runs (<see cref="TailPageWriter"/>), so a group commit allocates nothing. FASTER's own commit runs here too, when <see cref="FlushAsync"/> asks for it (truncations move the
    /// begin address, which only FASTER's commit records and acts on): one committer, so records stay in order.
    /// </summary>
    private void CommitLoop()
    {
        var token = _stop.Token;
        while (true)
        {
            _wake.Wait();
            if (_stopping)
            {
                break;
            }

            if (_commit.MaxDelay > TimeSpan.Zero && Volatile.Read(ref _pendingBytes) < _commit.MaxBytes)
            {
                try
                {
                    _full.Wait(_commit.MaxDelay, token);
                }
                catch (OperationCanceledException)
                {
                    // commit what is pending before stopping
                }
            }

            Volatile.Write(ref _commitRequested, 0);
            Interlocked.Exchange(ref _pendingBytes, 0);
            while (_full.CurrentCount > 0)
            {
                _full.Wait(0);
            }

            var fasterCommit = TakeFasterCommitRequest();
            try
            {
                if (fasterCommit is null)
                {
                    CommitAppended();
                }
                else
                {
                    CommitWithFaster();
                }
            }
            catch (Exception ex)
            {
                var failure = Fail(ex);
                fasterCommit?.TrySetResult(failure);
                TakeFasterCommitRequest()?.TrySetResult(failure);
                return;
            }

            Queue.Advance(Log.CommittedUntilAddress);
            Committed.Pulse();
            fasterCommit?.TrySetResult(null);
        }

        // The final commit finishes pending acknowledgements. With nothing pending it is skipped: FASTER would write a
        // commit record anyway after a recovery, replacing one that may still carry the tail-cut cookie.
        StorageException? final = null;
        if (Log.TailAddress > Log.CommittedUntilAddress || Log.BeginAddress > Log.CommittedBeginAddress)
        {
            final = CommitAndPublishAsync().GetAwaiter().GetResult(); // this thread has nothing else to do
        }

        TakeFasterCommitRequest()?.TrySetResult(final);
    }

    /// <summary>
    /// Makes everything appended so far durable: waits until FASTER has written the pages the tail has left (it starts
    /// those writes itself), writes the rest of the tail page (<see cref="TailPageWriter"/>), then the commit record.
    /// </summary>
    private void CommitAppended()
    {
        long until = Volatile.Read(ref _appendedUntil);
        if (until <= Log.CommittedUntilAddress)
        {
            return;
        }

        long tailPage = _tail.PageStartBelow(until);
        while (Log.FlushedUntilAddress < tailPage)
        {
            _tail.Refresh();
            ThrowIfPageWriteFailed();
            _commitDone.Clear(); // set by the device after each page write, once FASTER has moved FlushedUntilAddress
            if (Log.FlushedUntilAddress >= tailPage)
            {
                break;
            }

            ThrowIfPageWriteFailed();
            ThrowIfCommitRecordFailed();
            _commitDone.Wait();
        }

        _tail.EvictAhead(tailPage);
        long from = Math.Max(Math.Max(Log.FlushedUntilAddress, Log.CommittedUntilAddress), tailPage);
        if (from < until)
        {
            try
            {
                _tail.Write(from, until);
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
            {
                throw new StorageException($"A page write to the {Name} log failed: {ex.Message}", SegmentPathFor(from), ex);
            }
        }

        _commits.CommitFlushed(Log.CommittedBeginAddress, until);
        Volatile.Write(ref Log.CommittedUntilAddress, until); // readers scan up to it
        Volatile.Write(ref _groupCommits, _groupCommits + 1);
    }

    /// <summary>
    /// FASTER's commit up to the tail, awaiting FASTER's internal commit task rather than <c>CommitAsync</c>'s objects.
    /// It is done once the commit manager has written this commit's record: <c>CommittedUntilAddress</c> cannot tell,
    /// since the group commit may already have moved it to the tail, and returning early would let the next group
    /// commit race FASTER's still-running partial page write (stale bytes past the tail) and metadata write (an older
    /// recovery point under a newer record number).
    /// </summary>
    private void CommitWithFaster()
    {
        var task = CommitTaskOf(Log);
        if (Log.CommitStrongly(out _, out long commitNum, spinWait: false))
        {
            Volatile.Write(ref _groupCommits, _groupCommits + 1);
            while (_commits.LastFasterCommit < commitNum)
            {
                ThrowIfCommitRecordFailed();
                if (task.IsCompleted)
                {
                    task.GetAwaiter().GetResult(); // a failed page write throws here
                    task = CommitTaskOf(Log);
                    continue;
                }

                // Woken by FASTER's commit task, or by the commit manager when the record could not be written
                // (FASTER then never completes the commit); page writes wake it too, hence the loop.
                _commitDone.Clear();
                task.ConfigureAwait(false).GetAwaiter().UnsafeOnCompleted(_onCommitDone);
                if (_commits.LastFasterCommit >= commitNum)
                {
                    break;
                }

                ThrowIfCommitRecordFailed();
                _commitDone.Wait();
            }
        }

        ThrowIfCommitRecordFailed();
    }

    private TaskCompletionSource<StorageException?>? TakeFasterCommitRequest()
    {
        lock (_fasterCommitLock)
        {
            var request = _fasterCommit;
            _fasterCommit = null;
            return request;
        }
    }

    private long DurableUntilAddress() => Volatile.Read(ref Log.CommittedUntilAddress);

    private void OnPageWritten(int segment, uint error)
    {
        if (error != 0)
        {
            Interlocked.CompareExchange(ref _pageWriteFailure,
                new StorageException($"A page write to the {Name} log failed with error {error}", SegmentPath(segment)), null);
        }

        _commitDone.Set();
    }

    private void ThrowIfPageWriteFailed()
    {
        if (Volatile.Read(ref _pageWriteFailure) is { } failure)
        {
            throw failure;
        }
    }

    private void ThrowIfCommitRecordFailed()
    {
        if (_commits.Failure is { } failure)
        {
            throw failure;
        }
    }

    /// <summary>Commits, then tells durability waiters and readers; a failure stops the log and is returned.</summary>
    private async Task<StorageException?> CommitAndPublishAsync()
    {
        try
        {
            await CommitAsync().ConfigureAwait(false);
        }
        catch (Exception ex)
        {
            return Fail(ex);
        }

        Queue.Advance(Log.CommittedUntilAddress);
        Committed.Pulse();
        return null;
    }

    /// <summary>
    /// Commits up to the tail. FASTER never completes a commit whose record could not be written (its commit worker
    /// swallows the exception), so this waits for the commit or the commit manager's failure, whichever comes first;
    /// and a failure stays a failure even if a later commit got through.
    /// </summary>
    private async Task CommitAsync()
    {
        var commit = Log.CommitAsync();
        if (commit.IsCompleted)
        {
            commit.GetAwaiter().GetResult();
        }
        else
        {
            var task = commit.AsTask();
            if (await Task.WhenAny(task, _commits.Failed).ConfigureAwait(false) != task)
            {
                throw await _commits.Failed.ConfigureAwait(false);
            }

            await task.ConfigureAwait(false);
        }

        if (_commits.Failure is { } failure)
        {
            throw failure;
        }
    }

    /// <summary>
    /// Commits what is pending now, truncations included, with FASTER's commit, and waits for it (checkpoints,
    /// retention). While the commit loop runs, the loop does it, so that no two commits race.
    /// </summary>
    public async ValueTask FlushAsync()
    {
        ThrowIfFailed();
        StorageException? failure;
        if (_loop is null)
        {
            failure = await CommitAndPublishAsync().ConfigureAwait(false);
        }
        else
        {
            TaskCompletionSource<StorageException?> request;
            lock (_fasterCommitLock)
            {
                request = _fasterCommit ??= new TaskCompletionSource<StorageException?>(TaskCreationOptions.RunContinuationsAsynchronously);
            }

            if (_loop.IsCompleted)
            {
                TakeFasterCommitRequest()?.TrySetResult(null); // stopped: its final commit has run
                ThrowIfFailed();
                return;
            }

            OnAppended(0);
            failure = await request.Task.ConfigureAwait(false);
        }

        if (failure is not null)
        {
            throw failure;
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (_loop is not null)
        {
            _stopping = true;
            await _stop.CancelAsync().ConfigureAwait(false);
            _wake.Set();
            await _loop.ConfigureAwait(false);
        }

        Committed.Close();
        Log.Dispose();
        _tail.Dispose();
        _device.Dispose(); // SegmentFileDevice holds no pool that a failed file creation could leave waiting (FASTER's did)
        _stop.Dispose();
        _full.Dispose();
        _room.Dispose();
    }

    /// <summary>Blocks an appender until the durability queue reaches an address; reused, so waiting allocates nothing.</summary>
    private sealed class RoomWaiter : IDurabilityCallback, IDisposable
    {
        private readonly ManualResetEventSlim _reached = new(false);

        public void Wait(DurabilityQueue queue, long address)
        {
            _reached.Reset();
            queue.Register(address, this, 0);
            _reached.Wait();
        }

        public void OnDurable(long token) => _reached.Set();

        public void OnFailed(long token, Exception error) => _reached.Set();

        public void Dispose() => _reached.Dispose();
    }
}
