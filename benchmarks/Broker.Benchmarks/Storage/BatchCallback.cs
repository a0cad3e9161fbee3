using Broker.Core.Storage;

namespace Broker.Benchmarks.Storage;

/// <summary>
/// One durability callback for every record of a batch, as a connection's ack queue would be: tokens are the
/// records' indexes; callbacks arrive in order, so the batch is durable when the last token is told.
/// Waiting allocates nothing (no task per record, none per batch).
/// </summary>
internal sealed class BatchCallback : IDurabilityCallback, IDisposable
{
    private readonly ManualResetEventSlim _done = new(false);
    private long _lastToken;
    private Exception? _failure;

    public void Expect(long lastToken)
    {
        _lastToken = lastToken;
        _done.Reset();
    }

    public void Wait()
    {
        _done.Wait();
        if (_failure is { } failure)
        {
            throw new InvalidOperationException("The events log failed during the benchmark.", failure);
        }
    }

    public void OnDurable(long token)
    {
        if (token == _lastToken)
        {
            _done.Set();
        }
    }

    public void OnFailed(long token, Exception error)
    {
        _failure = error;
        _done.Set();
    }

    public void Dispose() => _done.Dispose();
}
