using System.Buffers;
using System.Buffers.Binary;
using System.Text.Json;
using Broker.Core.Errors;
using Broker.Core.Storage;

namespace Broker.Core.CloudToDevice;

/// <summary>
/// The hub's feedback queue (<c>/messages/serviceBound/feedback</c>). Each record is written durably to partition
/// 0 when the outcome happens, so a crash loses none; batches are formed when the receiver asks, from records
/// that have waited <see cref="CloudToDeviceOptions.FeedbackBatchDelay"/> or once a batch is full, as IoT Hub
/// batches them. A received batch is locked; completing it deletes its records, abandoning it (or letting the
/// lock run out) offers it again, until it has been received <see cref="CloudToDeviceOptions.FeedbackMaxDeliveryCount"/>
/// times. Records not completed within <see cref="CloudToDeviceOptions.FeedbackTimeToLive"/> are dropped (a record in
/// a locked batch once the lock ends), so feedback nobody reads does not grow the store without bound.
/// </summary>
public sealed class FeedbackQueue : IDisposable
{
    private const string KeyPrefix = "c2d-feedback/";

    private readonly IStateStore _state;
    private readonly CloudToDeviceOptions _options;
    private readonly TimeProvider _time;
    private readonly Lock _lock = new();
    private readonly List<Pending> _unbatched = [];
    private readonly List<Batch> _batches = [];
    private readonly ITimer _timer;
    private TaskCompletionSource _changed = NewSignal();
    private long _nextSequence;
    private bool _disposed;

    /// <summary>Opens the queue over partition 0 of <paramref name="store"/>, loading the records a previous run left.</summary>
    public FeedbackQueue(IHubStore store, CloudToDeviceOptions options, TimeProvider time)
    {
        ArgumentNullException.ThrowIfNull(store);
        ArgumentNullException.ThrowIfNull(options);
        _state = store.GetPartition(0).State;
        _options = options;
        _time = time ?? TimeProvider.System;
        _timer = _time.CreateTimer(static state => ((FeedbackQueue)state!).OnTimer(), this, Timeout.InfiniteTimeSpan, Timeout.InfiniteTimeSpan);
        var loader = new Loader();
        _state.Scan(StateRecordKind.Hub, System.Text.Encoding.ASCII.GetBytes(KeyPrefix), loader);
        loader.Records.Sort(static (a, b) => a.Sequence.CompareTo(b.Sequence));
        _unbatched.AddRange(loader.Records);
        _nextSequence = loader.Records.Count == 0 ? 1 : loader.Records[^1].Sequence + 1;
        lock (_lock)
        {
            Rearm();
        }
    }

    /// <summary>Records not yet completed (batched or not).</summary>
    public int Count
    {
        get
        {
            lock (_lock)
            {
                return _unbatched.Count + _batches.Sum(static batch => batch.Records.Count);
            }
        }
    }

    /// <summary>Writes a record; returns the partition-0 redo address that makes it durable.</summary>
    public long Add(FeedbackRecord record)
    {
        ArgumentNullException.ThrowIfNull(record);
        lock (_lock)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            long sequence = _nextSequence++;
            long address = _state.Upsert(StateRecordKind.Hub, KeyOf(sequence), JsonSerializer.SerializeToUtf8Bytes(record, CloudToDeviceJsonContext.Default.FeedbackRecord));
            _unbatched.Add(new Pending(sequence, record, _time.GetUtcNow()));
            Rearm();
            Signal();
            return address;
        }
    }

    /// <summary>Waits for a batch that is ready and not locked, and locks it.</summary>
    public async ValueTask<FeedbackBatch> ReceiveAsync(CancellationToken cancellationToken = default)
    {
        while (true)
        {
            Task changed;
            lock (_lock)
            {
                ObjectDisposedException.ThrowIf(_disposed, this);
                var now = _time.GetUtcNow();
                DropExpiredAndExhausted(now);
                FormDueBatches(now);
                foreach (var batch in _batches)
                {
                    if (batch.LockedUntil <= now)
                    {
                        batch.Deliveries++;
                        batch.LockToken = Guid.NewGuid();
                        batch.LockedUntil = now + _options.FeedbackLockDuration;
                        Rearm();
                        return new FeedbackBatch(batch.LockToken, batch.FormedAt, batch.Records.ConvertAll(static pending => pending.Record), batch.Body);
                    }
                }

                changed = _changed.Task;
            }

            await changed.WaitAsync(cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>Deletes a received batch's records; 412002 when its lock is lost (expired or already settled).</summary>
    public async ValueTask CompleteAsync(Guid lockToken, CancellationToken cancellationToken = default)
    {
        long address = 0;
        lock (_lock)
        {
            var batch = FindLocked(lockToken);
            _batches.Remove(batch);
            foreach (var pending in batch.Records)
            {
                address = Math.Max(address, _state.Delete(StateRecordKind.Hub, KeyOf(pending.Sequence)));
            }
        }

        await _state.WaitDurableAsync(address, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Unlocks a received batch so it is offered again, or drops it if it was received as often as allowed.</summary>
    public void Abandon(Guid lockToken)
    {
        lock (_lock)
        {
            FindLocked(lockToken).LockedUntil = DateTimeOffset.MinValue;
            DropExpiredAndExhausted(_time.GetUtcNow());
            Rearm();
            Signal();
        }
    }

    /// <summary>Stops the timer and wakes receivers with <see cref="ObjectDisposedException"/>.</summary>
    public void Dispose()
    {
        lock (_lock)
        {
            _disposed = true;
            Signal();
        }

        _timer.Dispose();
    }

    private Batch FindLocked(Guid lockToken)
    {
        var now = _time.GetUtcNow();
        foreach (var batch in _batches)
        {
            if (batch.LockToken == lockToken && batch.LockedUntil > now)
            {
                return batch;
            }
        }

        throw new IotHubException(IotHubErrorCode.DeviceMessageLockLost, $"Feedback lock {lockToken} is lost: it expired or the batch was already settled.");
    }

    // Unlocked batches received FeedbackMaxDeliveryCount times go; so do records past their time to live, unless
    // their batch is locked (its receiver may still complete it). The drops are not waited for: nobody was told.
    private void DropExpiredAndExhausted(DateTimeOffset now)
    {
        var oldestAlive = now - _options.FeedbackTimeToLive;
        for (int i = _batches.Count - 1; i >= 0; i--)
        {
            var batch = _batches[i];
            if (batch.LockedUntil > now)
            {
                continue;
            }

            int expired = batch.Deliveries >= _options.FeedbackMaxDeliveryCount
                ? batch.Records.Count
                : CountExpired(batch.Records, oldestAlive);
            if (expired == 0)
            {
                continue;
            }

            Delete(batch.Records, expired);
            if (expired == batch.Records.Count)
            {
                _batches.RemoveAt(i);
            }
            else
            {
                var rest = batch.Records.GetRange(expired, batch.Records.Count - expired);
                _batches[i] = new Batch(rest, Serialize(rest), batch.FormedAt) { Deliveries = batch.Deliveries };
            }
        }

        int unbatchedExpired = CountExpired(_unbatched, oldestAlive);
        Delete(_unbatched, unbatchedExpired);
        _unbatched.RemoveRange(0, unbatchedExpired);
    }

    // Records are in the order they were added, which is the order of their times.
    private static int CountExpired(List<Pending> records, DateTimeOffset oldestAlive)
    {
        int count = 0;
        while (count < records.Count && records[count].AddedAt <= oldestAlive)
        {
            count++;
        }

        return count;
    }

    private void Delete(List<Pending> records, int count)
    {
        for (int i = 0; i < count; i++)
        {
            _state.Delete(StateRecordKind.Hub, KeyOf(records[i].Sequence));
        }
    }

    private static byte[] Serialize(List<Pending> records)
        => JsonSerializer.SerializeToUtf8Bytes(records.ConvertAll(static pending => pending.Record), CloudToDeviceJsonContext.Default.ListFeedbackRecord);

    private void FormDueBatches(DateTimeOffset now)
    {
        while (_unbatched.Count > 0
            && (_unbatched.Count >= _options.FeedbackBatchSize || _unbatched[0].AddedAt + _options.FeedbackBatchDelay <= now))
        {
            int take = Math.Min(_options.FeedbackBatchSize, _unbatched.Count);
            var records = _unbatched.GetRange(0, take);
            _unbatched.RemoveRange(0, take);
            _batches.Add(new Batch(records, Serialize(records), now));
        }
    }

    private void OnTimer()
    {
        lock (_lock)
        {
            if (_disposed)
            {
                return;
            }

            // Batch what is due now: left unbatched, a due record would re-arm the timer at once, forever.
            var now = _time.GetUtcNow();
            DropExpiredAndExhausted(now);
            FormDueBatches(now);
            Rearm();
            Signal();
        }
    }

    // The next moment something changes: the oldest unbatched record's delay or time to live, a lock running out,
    // or the oldest record of an unlocked batch expiring.
    private void Rearm()
    {
        var next = DateTimeOffset.MaxValue;
        if (_unbatched.Count > 0)
        {
            next = _unbatched[0].AddedAt + (_unbatched.Count < _options.FeedbackBatchSize ? _options.FeedbackBatchDelay : _options.FeedbackTimeToLive);
        }

        var now = _time.GetUtcNow();
        foreach (var batch in _batches)
        {
            var at = batch.LockedUntil > now ? batch.LockedUntil : batch.Records[0].AddedAt + _options.FeedbackTimeToLive;
            if (at < next)
            {
                next = at;
            }
        }

        if (next == DateTimeOffset.MaxValue)
        {
            _timer.Change(Timeout.InfiniteTimeSpan, Timeout.InfiniteTimeSpan);
            return;
        }

        var wait = next - now;
        _timer.Change(wait < TimeSpan.Zero ? TimeSpan.Zero : wait, Timeout.InfiniteTimeSpan);
    }

    private void Signal()
    {
        var previous = _changed;
        _changed = NewSignal();
        previous.TrySetResult();
    }

    private static TaskCompletionSource NewSignal() => new(TaskCreationOptions.RunContinuationsAsynchronously);

    private static byte[] KeyOf(long sequence)
    {
        var key = new byte[KeyPrefix.Length + sizeof(long)];
        System.Text.Encoding.ASCII.GetBytes(KeyPrefix, key);
        BinaryPrimitives.WriteInt64BigEndian(key.AsSpan(KeyPrefix.Length), sequence);
        return key;
    }

    private sealed record Pending(long Sequence, FeedbackRecord Record, DateTimeOffset AddedAt);

    private sealed class Batch(List<Pending> records, byte[] body, DateTimeOffset formedAt)
    {
        public List<Pending> Records { get; } = records;

        public byte[] Body { get; } = body;

        public DateTimeOffset FormedAt { get; } = formedAt;

        public Guid LockToken { get; set; }

        public DateTimeOffset LockedUntil { get; set; } = DateTimeOffset.MinValue;

        /// <summary>How many times the batch has been received.</summary>
        public int Deliveries { get; set; }
    }

    private sealed class Loader : IStateVisitor
    {
        public List<Pending> Records { get; } = [];

        public bool Visit(ReadOnlySpan<byte> key, ReadOnlySpan<byte> value)
        {
            if (key.Length == KeyPrefix.Length + sizeof(long))
            {
                var record = JsonSerializer.Deserialize(value, CloudToDeviceJsonContext.Default.FeedbackRecord);
                if (record is not null)
                {
                    // Offered at once after a restart if it had already waited its batch delay.
                    Records.Add(new Pending(BinaryPrimitives.ReadInt64BigEndian(key[KeyPrefix.Length..]), record, record.EnqueuedTimeUtc));
                }
            }

            return true;
        }
    }
}
