using Broker.Core.Storage;

namespace Broker.Storage.Faster.Commit;

/// <summary>Adapts a durability callback to a task, for callers off the hot path.</summary>
internal sealed class TaskDurabilityCallback : IDurabilityCallback
{
    private readonly TaskCompletionSource _completion = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public Task Task => _completion.Task;

    public void OnDurable(long token) => _completion.TrySetResult();

    public void OnFailed(long token, Exception error) => _completion.TrySetException(error);
}
