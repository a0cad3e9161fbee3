namespace Broker.Storage.Faster.Commit;

/// <summary>Wakes readers that wait for the next commit; one task per commit, none per reader.</summary>
internal sealed class CommitSignal
{
    private TaskCompletionSource<bool> _next = NewSource();

    public Task<bool> NextAsync() => Volatile.Read(ref _next).Task;

    public void Pulse(bool more = true) => Interlocked.Exchange(ref _next, NewSource()).TrySetResult(more);

    /// <summary>Releases every waiter with false and keeps answering false.</summary>
    public void Close() => Volatile.Read(ref _next).TrySetResult(false);

    private static TaskCompletionSource<bool> NewSource() => new(TaskCreationOptions.RunContinuationsAsynchronously);
}
