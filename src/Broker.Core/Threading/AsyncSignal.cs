using System.Threading.Tasks.Sources;

namespace Broker.Core.Threading;

/// <summary>
/// An auto-reset signal with one waiter, awaited without allocating (a reusable value-task source): the outbox
/// writer of a protocol connection (MQTT, AMQP) or a log's commit loop sleeps on it and any thread wakes it.
/// </summary>
public sealed class AsyncSignal : IValueTaskSource
{
    private readonly Lock _lock = new();
    private ManualResetValueTaskSourceCore<bool> _source;
    private bool _set;
    private bool _waiting;

    /// <summary>Creates an unset signal.</summary>
    /// <param name="runContinuationsAsynchronously">False lets <see cref="Set"/> run the waiter inline (one thread hop less).</param>
    public AsyncSignal(bool runContinuationsAsynchronously = true)
        => _source = new() { RunContinuationsAsynchronously = runContinuationsAsynchronously };

    /// <summary>Completes when the signal is set (at once if it already is), and resets it. One waiter at a time.</summary>
    public ValueTask WaitAsync()
    {
        lock (_lock)
        {
            if (_set)
            {
                _set = false;
                return ValueTask.CompletedTask;
            }

            _source.Reset();
            _waiting = true;
            return new ValueTask(this, _source.Version);
        }
    }

    /// <summary>Forgets a set that nobody waited for.</summary>
    public void Clear()
    {
        lock (_lock)
        {
            _set = false;
        }
    }

    /// <summary>Sets the signal, waking the waiter if there is one; from any thread. A set with nobody waiting is remembered until the next wait.</summary>
    public void Set()
    {
        lock (_lock)
        {
            if (!_waiting)
            {
                _set = true;
                return;
            }

            _waiting = false;
        }

        _source.SetResult(true);
    }

    void IValueTaskSource.GetResult(short token) => _source.GetResult(token);

    ValueTaskSourceStatus IValueTaskSource.GetStatus(short token) => _source.GetStatus(token);

    void IValueTaskSource.OnCompleted(Action<object?> continuation, object? state, short token, ValueTaskSourceOnCompletedFlags flags)
        => _source.OnCompleted(continuation, state, token, flags);
}
