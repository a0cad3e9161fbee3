namespace Broker.Storage.Faster.Commit;

/// <summary>
/// Wakes readers that wait for the next commit: one task per commit that someone waits for, none per reader, and
/// none at all for commits nobody waits for (the source is made by the first waiter, not by the commit).
/// </summary>
internal sealed class CommitSignal
{
    private static readonly Task<bool> Closed = Task.FromResult(false);
    private TaskCompletionSource<bool>? _next;
    private volatile bool _closed;

    public Task<bool> NextAsync()
    {
        if (_closed)
        {
            return Closed;
        }

        var source = Volatile.Read(ref _next);
        if (source is null)
        {
            var fresh = new TaskCompletionSource<bool>(TaskCreationOptions.RunContinuationsAsynchronously);
            source = Interlocked.CompareExchange(ref _next, fresh, null) ?? fresh;
        }

        if (_closed)
        {
            source.TrySetResult(false); // closed while this waiter was arriving
        }

        return source.Task;
    }

    public void Pulse(bool more = true) => Interlocked.Exchange(ref _next, null)?.TrySetResult(more);

    /// <summary>Releases every waiter with false and keeps answering false.</summary>
    public void Close()
    {
        _closed = true;
        Interlocked.Exchange(ref _next, null)?.TrySetResult(false);
    }
}
