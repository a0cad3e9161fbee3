namespace Broker.Core.Storage;

/// <summary>
/// Told when an appended record is durable. One instance serves many records (a connection's ack queue,
/// say), told apart by the caller's token, so waiting for durability allocates nothing per record.
/// </summary>
public interface IDurabilityCallback
{
    /// <summary>The record registered with <paramref name="token"/> is on disk.</summary>
    void OnDurable(long token);

    /// <summary>The log failed before the record was durable; it must not be acknowledged.</summary>
    void OnFailed(long token, Exception error);
}
