using Broker.Core.Storage;
using Broker.Storage.Faster.Commit;
using Broker.Storage.Faster.Records;
using FASTER.core;

namespace Broker.Storage.Faster.Events;

/// <summary>A cursor over the committed part of an events log.</summary>
internal sealed class FasterTelemetryReader : ITelemetryReader
{
    private readonly DurableLog _log;
    private readonly FasterLogScanIterator _iterator;
    private long _position;

    public FasterTelemetryReader(DurableLog log, long offset)
    {
        _log = log;
        _position = offset;
        _iterator = log.Log.Scan(offset, long.MaxValue);
    }

    public long Position => _position;

    public unsafe int Read(ITelemetryVisitor visitor, int maxEvents)
    {
        int count = 0;
        while (count < maxEvents && _iterator.UnsafeGetNext(out byte* entry, out int length, out long current, out long next))
        {
            bool more;
            try
            {
                var record = new ReadOnlySpan<byte>(entry, length);
                if (!EventRecord.TryParse(record, out long sequence, out long ticks, out var body))
                {
                    throw new StorageException($"Corrupt event at offset {current}", _log.SegmentPathFor(current));
                }

                _position = next;
                count++;
                more = visitor.Visit(new TelemetryEvent(current, next, sequence, ticks, body));
            }
            finally
            {
                _iterator.UnsafeRelease();
            }

            if (!more)
            {
                break;
            }
        }

        return count;
    }

    public async ValueTask<bool> WaitForEventsAsync(CancellationToken cancellationToken = default)
    {
        while (true)
        {
            var next = _log.Committed.NextAsync();
            if (_log.Queue.Durable > _position)
            {
                return true;
            }

            if (next.IsCompleted && !next.Result)
            {
                return false;
            }

            if (!await next.WaitAsync(cancellationToken).ConfigureAwait(false))
            {
                return false;
            }
        }
    }

    public void Dispose() => _iterator.Dispose();
}
