namespace Broker.Storage.Faster.Commit;

/// <summary>
/// An auto-reset signal that one dedicated thread blocks on and any thread sets: the commit thread's wake-up. A set
/// with nobody waiting is remembered until the next wait. Waiting and setting allocate nothing.
/// </summary>
internal sealed class BlockingSignal
{
    private readonly object _lock = new(); // a monitor, not a Lock: Monitor.Wait needs one
    private bool _set;

    public void Set()
    {
        lock (_lock)
        {
            _set = true;
            Monitor.Pulse(_lock);
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

    /// <summary>Blocks until the signal is set, then resets it.</summary>
    public void Wait()
    {
        lock (_lock)
        {
            while (!_set)
            {
                Monitor.Wait(_lock);
            }

            _set = false;
        }
    }
}
