namespace Broker.Core.Storage;

/// <summary>Where an appended event landed.</summary>
/// <param name="Offset">The event's offset (log address).</param>
/// <param name="EndAddress">The address after the event; it is durable once the log's durable address reaches it.</param>
/// <param name="SequenceNumber">The event's per-partition sequence number.</param>
/// <param name="EnqueuedTicks">The UTC ticks stamped as its enqueued time.</param>
public readonly record struct TelemetryAppend(long Offset, long EndAddress, long SequenceNumber, long EnqueuedTicks);
