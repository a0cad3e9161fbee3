using Broker.Core.Storage;

namespace Broker.Storage.Faster.Commit;

/// <summary>
/// Pending "tell me when durable" registrations of one log, kept in a ring of structs so that waiting for
/// durability costs no allocation per record. Callbacks run outside the lock, in registration order.
/// </summary>
internal sealed class DurabilityQueue
{
    private readonly Lock _lock = new();
    private Entry[] _ring = new Entry[256];
    private int _head;
    private int _count;
    private long _durable;
    private bool _draining;
    private Exception? _failure;
    private readonly Action<Exception>? _callbackFailed;

    /// <param name="durable">The durable address the log opened with.</param>
    /// <param name="callbackFailed">
    /// Told when a callback throws while the queue drains; the others are still told. A callback is a connection's
    /// (a PUBACK to send, a disposition), and one that throws must not hold back every other waiter of the log.
    /// </param>
    public DurabilityQueue(long durable, Action<Exception>? callbackFailed = null)
    {
        _durable = durable;
        _callbackFailed = callbackFailed;
    }

    public long Durable => Volatile.Read(ref _durable);

    public Exception? Failure => Volatile.Read(ref _failure);

    public void Register(long address, IDurabilityCallback callback, long token)
    {
        Exception? failure;
        lock (_lock)
        {
            failure = _failure;
            if (failure is null && (address > _durable || _count > 0 || _draining))
            {
                Enqueue(new Entry(address, callback, token));
                return;
            }
        }

        if (failure is null)
        {
            callback.OnDurable(token);
        }
        else
        {
            callback.OnFailed(token, failure);
        }
    }

    /// <summary>Everything below <paramref name="durable"/> is on disk: tell whoever waits for it.</summary>
    public void Advance(long durable)
    {
        lock (_lock)
        {
            if (durable > _durable)
            {
                Volatile.Write(ref _durable, durable);
            }

            if (_draining)
            {
                return; // the thread already draining will see the new mark
            }

            _draining = true;
        }

        while (true)
        {
            Entry entry;
            lock (_lock)
            {
                if (_count == 0 || (_failure is null && _ring[_head].Address > _durable))
                {
                    _draining = false;
                    return;
                }

                entry = Dequeue();
            }

            try
            {
                if (_failure is { } failure && entry.Address > _durable)
                {
                    entry.Callback.OnFailed(entry.Token, failure);
                }
                else
                {
                    entry.Callback.OnDurable(entry.Token);
                }
            }
            catch (Exception ex) when (_callbackFailed is not null)
            {
                _callbackFailed(ex);
            }
        }
    }

    /// <summary>
    /// Recovery cut the log back to <paramref name="durable"/>: addresses above it are no longer durable (the mark
    /// otherwise only rises). Only before anything is registered, while the log is being opened.
    /// </summary>
    public void Reset(long durable)
    {
        lock (_lock)
        {
            if (_count > 0 || _draining || _failure is not null)
            {
                throw new InvalidOperationException("The durability queue can only be reset before it is used.");
            }

            Volatile.Write(ref _durable, durable);
        }
    }

    /// <summary>The log failed: every pending and future registration fails with <paramref name="error"/>.</summary>
    public void Fail(Exception error)
    {
        lock (_lock)
        {
            _failure ??= error;
        }

        Advance(_durable);
    }

    private void Enqueue(Entry entry)
    {
        if (_count == _ring.Length)
        {
            var larger = new Entry[_ring.Length * 2];
            for (int i = 0; i < _count; i++)
            {
                larger[i] = _ring[(_head + i) % _ring.Length];
            }

            _ring = larger;
            _head = 0;
        }

        _ring[(_head + _count) % _ring.Length] = entry;
        _count++;
    }

    private Entry Dequeue()
    {
        var entry = _ring[_head];
        _ring[_head] = default;
        _head = (_head + 1) % _ring.Length;
        _count--;
        return entry;
    }

    private readonly record struct Entry(long Address, IDurabilityCallback Callback, long Token);
}
