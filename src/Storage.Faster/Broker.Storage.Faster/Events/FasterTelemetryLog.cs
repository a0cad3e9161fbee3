using System.Buffers;
using System.Buffers.Binary;
using System.Text;
using Broker.Core.Storage;
using Broker.Storage.Faster.Commit;
using Broker.Storage.Faster.Records;
using Broker.Storage.Faster.State;

namespace Broker.Storage.Faster.Events;

/// <summary>
/// A partition's events log on FasterLog. Appends take a short lock so that sequence numbers, enqueued times and
/// log addresses rise together; durability comes from the group commit. Reader positions live in the state store.
/// </summary>
internal sealed class FasterTelemetryLog : ITelemetryLog, IAsyncDisposable
{
    private const string ReaderKeyPrefix = "events/";

    private readonly Lock _appendLock = new();
    private readonly DurableLog _log;
    private readonly FasterStateStore _state;
    private readonly TimeProvider _time;
    private readonly PageTimeIndex _index;
    private readonly Dictionary<string, long> _readers = new(StringComparer.Ordinal);
    private readonly int _maxBodyLength;
    private long _nextSequence;
    private long _lastTicks;

    private FasterTelemetryLog(DurableLog log, LogSizes sizes, FasterStateStore state, TimeProvider time, PageTimeIndex index, long nextSequence, long lastTicks)
    {
        _log = log;
        _state = state;
        _time = time;
        _index = index;
        _nextSequence = nextSequence;
        _lastTicks = lastTicks;
        _maxBodyLength = (1 << log.PageSizeBits) - log.Log.HeaderSize - EventRecord.HeaderSize;
    }

    internal DurableLog DurableLog => _log;

    public static FasterTelemetryLog Open(string directory, LogSizes sizes, GroupCommitOptions commit, long expectedAtLeast,
        long manifestNextSequence, int verifyPages, FasterStateStore state, TimeProvider time, Microsoft.Extensions.Logging.ILogger logger)
    {
        var log = DurableLog.Open(directory, "events", sizes, commit, expectedAtLeast, logger);
        try
        {
            long committed = log.Log.CommittedUntilAddress;
            long verifyFrom = log.PageStartBefore(committed - ((long)verifyPages << sizes.PageSizeBits));
            var verifier = new EventRecoveryVisitor(new PageTimeIndex(sizes.PageSizeBits));
            log.VerifyAndRepair(verifyFrom, verifier);
            var index = new PageTimeIndex(sizes.PageSizeBits);
            IndexPageHeads(log, index);
            long nextSequence = Math.Max(manifestNextSequence, verifier.LastSequence + 1);
            var events = new FasterTelemetryLog(log, sizes, state, time, index, nextSequence, verifier.LastTicks);
            events.LoadReaders();
            log.StartCommitLoop();
            return events;
        }
        catch
        {
            log.DisposeAsync().AsTask().GetAwaiter().GetResult();
            throw;
        }
    }

    /// <summary>Indexes the first event of every retained page (one short read per page).</summary>
    private static unsafe void IndexPageHeads(DurableLog log, PageTimeIndex index)
    {
        long pageSize = 1L << log.PageSizeBits;
        long committed = log.Log.CommittedUntilAddress;
        for (long page = log.PageStartBefore(log.Log.BeginAddress); page < committed; page = (page & ~(pageSize - 1)) + pageSize)
        {
            long start = Math.Max(page, log.Log.BeginAddress);
            using var iterator = log.Log.Scan(start, Math.Min(committed, (start & ~(pageSize - 1)) + pageSize));
            try
            {
                if (iterator.UnsafeGetNext(out byte* entry, out int length, out long current, out _))
                {
                    try
                    {
                        if (EventRecord.TryParse(new ReadOnlySpan<byte>(entry, length), out _, out long ticks, out _))
                        {
                            index.OnAppend(current, ticks);
                        }
                    }
                    finally
                    {
                        iterator.UnsafeRelease();
                    }
                }
            }
            catch (FASTER.core.FasterException)
            {
                // a bad page head is found and reported by the tail verification, or by the reader that reaches it
            }
        }
    }

    public long BeginOffset => _log.Log.BeginAddress;

    public long TailOffset => _log.Log.TailAddress;

    public long DurableAddress => _log.Queue.Durable;

    public long NextSequenceNumber
    {
        get
        {
            lock (_appendLock)
            {
                return _nextSequence;
            }
        }
    }

    public unsafe TelemetryAppend Append(ReadOnlySpan<byte> body, IDurabilityCallback? callback = null, long token = 0)
    {
        CheckLength(body.Length);
        TelemetryAppend result;
        fixed (byte* pinned = body)
        {
            lock (_appendLock)
            {
                long ticks = NextTicks();
                long address = _log.Enqueue(new PinnedEventEntry(pinned, body.Length, _nextSequence, ticks), out long end);
                result = Appended(address, end, ticks, callback, token);
            }
        }

        return result;
    }

    public TelemetryAppend Append(in ReadOnlySequence<byte> body, IDurabilityCallback? callback = null, long token = 0)
    {
        if (body.IsSingleSegment)
        {
            return Append(body.FirstSpan, callback, token);
        }

        CheckLength(body.Length);
        TelemetryAppend result;
        lock (_appendLock)
        {
            long ticks = NextTicks();
            long address = _log.Enqueue(new SequenceEventEntry(body, _nextSequence, ticks), out long end);
            result = Appended(address, end, ticks, callback, token);
        }

        return result;
    }

    private TelemetryAppend Appended(long address, long end, long ticks, IDurabilityCallback? callback, long token)
    {
        var result = new TelemetryAppend(address, end, _nextSequence, ticks);
        _nextSequence++;
        _index.OnAppend(address, ticks);
        if (callback is not null)
        {
            _log.WhenDurable(end, callback, token);
        }

        return result;
    }

    /// <summary>Enqueued times never go backwards, even if the clock does, so time lookups stay ordered.</summary>
    private long NextTicks()
    {
        long now = _time.GetUtcNow().UtcTicks;
        if (now < _lastTicks)
        {
            now = _lastTicks;
        }

        _lastTicks = now;
        return now;
    }

    private void CheckLength(long length)
    {
        if (length > _maxBodyLength)
        {
            throw new ArgumentOutOfRangeException(nameof(length), length, $"An event body may have at most {_maxBodyLength} bytes (one log page).");
        }
    }

    public void WhenDurable(long endAddress, IDurabilityCallback callback, long token) => _log.WhenDurable(endAddress, callback, token);

    public ValueTask WaitDurableAsync(long endAddress, CancellationToken cancellationToken = default)
        => new(_log.WaitDurableAsync(endAddress, cancellationToken));

    public bool HasRoomFor(int bodyLength) => _log.RoomNeeded(EventRecord.HeaderSize + bodyLength) == 0;

    public ValueTask WaitForRoomAsync(int bodyLength, CancellationToken cancellationToken = default)
        => _log.WaitForRoomAsync(EventRecord.HeaderSize + bodyLength, cancellationToken);

    public ITelemetryReader OpenReader(long offset)
        => new FasterTelemetryReader(_log, Math.Clamp(offset, BeginOffset, Math.Max(BeginOffset, DurableAddress)));

    public long FindOffset(long enqueuedTicks)
    {
        long start = _index.StartBefore(enqueuedTicks);
        using var reader = OpenReader(start < 0 ? BeginOffset : start);
        var finder = new FirstAtOrAfter(enqueuedTicks);
        while (finder.Offset < 0 && reader.Read(finder, 1024) > 0)
        {
        }

        return finder.Offset >= 0 ? finder.Offset : reader.Position;
    }

    public long? GetReaderPosition(string name)
    {
        lock (_readers)
        {
            return _readers.TryGetValue(name, out long position) ? position : null;
        }
    }

    public long SetReaderPosition(string name, long offset)
    {
        Span<byte> value = stackalloc byte[8];
        BinaryPrimitives.WriteInt64LittleEndian(value, offset);
        lock (_readers)
        {
            _readers[name] = offset;
            return _state.Upsert(StateRecordKind.ReaderPosition, ReaderKey(name), value);
        }
    }

    public long DeleteReader(string name)
    {
        lock (_readers)
        {
            _readers.Remove(name);
            return _state.Delete(StateRecordKind.ReaderPosition, ReaderKey(name));
        }
    }

    public IReadOnlyList<string> ReaderNames
    {
        get
        {
            lock (_readers)
            {
                return [.. _readers.Keys];
            }
        }
    }

    private static byte[] ReaderKey(string name) => Encoding.UTF8.GetBytes(ReaderKeyPrefix + name);

    private void LoadReaders() => _state.Scan(StateRecordKind.ReaderPosition, Encoding.UTF8.GetBytes(ReaderKeyPrefix), new ReaderLoader(_readers));

    /// <summary>
    /// Drops events enqueued before <paramref name="cutoffTicks"/> that every named reader has passed. Whole
    /// segment files are deleted once the truncation is committed.
    /// </summary>
    public long ApplyRetention(long cutoffTicks)
    {
        long cut = FindOffset(cutoffTicks);
        lock (_readers)
        {
            foreach (long position in _readers.Values)
            {
                cut = Math.Min(cut, position);
            }
        }

        cut = Math.Min(cut, DurableAddress);
        if (cut <= BeginOffset)
        {
            return -1;
        }

        _log.Log.TruncateUntil(cut);
        _index.RemoveBelow(cut);
        return cut;
    }

    /// <summary>The next sequence number and the tail it belongs to, read together.</summary>
    public (long NextSequence, long Tail) SequenceMark()
    {
        lock (_appendLock)
        {
            return (_nextSequence, _log.Log.TailAddress);
        }
    }

    public ValueTask DisposeAsync() => _log.DisposeAsync();

    private sealed class ReaderLoader(Dictionary<string, long> readers) : IStateVisitor
    {
        public bool Visit(ReadOnlySpan<byte> key, ReadOnlySpan<byte> value)
        {
            if (value.Length == 8)
            {
                readers[Encoding.UTF8.GetString(key)[ReaderKeyPrefix.Length..]] = BinaryPrimitives.ReadInt64LittleEndian(value);
            }

            return true;
        }
    }
}
