using System.Threading.Tasks.Sources;

namespace Broker.Storage.Faster.Commit;

/// <summary>
/// An auto-reset signal with one waiter, awaited without allocating (a reusable value-task source): the commit loop
/// sleeps on it and any thread wakes it. A set with nobody waiting is remembered until the next wait.
/// </summary>
internal sealed class AsyncAutoResetSignal : IValueTaskSource
{
    private readonly Lock _lock = new();
    private ManualResetValueTaskSourceCore<bool> _source;
    private bool _set;
    private bool _waiting;

    /// <param name="runContinuationsAsynchronously">False lets <see cref="Set"/> run the waiter inline (one thread hop less).</param>
    public AsyncAutoResetSignal(bool runContinuationsAsynchronously = true)
        => _source = new() { RunContinuationsAsynchronously = runContinuationsAsynchronously };

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
