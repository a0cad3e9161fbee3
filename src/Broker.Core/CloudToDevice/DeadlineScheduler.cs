namespace Broker.Core.CloudToDevice;

/// <summary>
/// One timer for many deadlines: keeps the keys whose deadline is due in a priority queue and calls back with each
/// due key. A key may be scheduled more than once; the callback must tolerate early or repeated calls (it
/// re-reads the key's state and reschedules what is still pending).
/// </summary>
internal sealed class DeadlineScheduler : IDisposable
{
    private readonly PriorityQueue<string, DateTimeOffset> _due = new();
    private readonly Lock _lock = new();
    private readonly TimeProvider _time;
    private readonly Action<string> _onDue;
    private readonly ITimer _timer;
    private DateTimeOffset _armedFor = DateTimeOffset.MaxValue;
    private bool _disposed;

    public DeadlineScheduler(TimeProvider time, Action<string> onDue)
    {
        _time = time;
        _onDue = onDue;
        _timer = time.CreateTimer(static state => ((DeadlineScheduler)state!).Fire(), this, Timeout.InfiniteTimeSpan, Timeout.InfiniteTimeSpan);
    }

    public void Schedule(string key, DateTimeOffset deadline)
    {
        lock (_lock)
        {
            if (_disposed)
            {
                return;
            }

            _due.Enqueue(key, deadline);
            if (deadline < _armedFor)
            {
                Arm(deadline);
            }
        }
    }

    private void Fire()
    {
        var now = _time.GetUtcNow();
        var dueKeys = new List<string>();
        lock (_lock)
        {
            _armedFor = DateTimeOffset.MaxValue;
            while (_due.TryPeek(out var key, out var deadline) && deadline <= now)
            {
                _due.Dequeue();
                dueKeys.Add(key);
            }

            if (!_disposed && _due.TryPeek(out _, out var next))
            {
                Arm(next);
            }
        }

        foreach (var key in dueKeys.Distinct(StringComparer.Ordinal))
        {
            _onDue(key);
        }
    }

    private void Arm(DateTimeOffset deadline)
    {
        _armedFor = deadline;
        var wait = deadline - _time.GetUtcNow();
        _timer.Change(wait < TimeSpan.Zero ? TimeSpan.Zero : wait, Timeout.InfiniteTimeSpan);
    }

    public void Dispose()
    {
        lock (_lock)
        {
            _disposed = true;
            _due.Clear();
        }

        _timer.Dispose();
    }
}
