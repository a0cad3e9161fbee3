namespace Broker.Core.Storage;

/// <summary>One event read from a partition's events log; <see cref="Body"/> is only valid during the callback.</summary>
public readonly ref struct TelemetryEvent
{
    /// <summary>Creates the view.</summary>
    public TelemetryEvent(long offset, long nextOffset, long sequenceNumber, long enqueuedTicks, ReadOnlySpan<byte> body)
    {
        Offset = offset;
        NextOffset = nextOffset;
        SequenceNumber = sequenceNumber;
        EnqueuedTicks = enqueuedTicks;
        Body = body;
    }

    /// <summary>The event's offset (its log address) in the partition.</summary>
    public long Offset { get; }

    /// <summary>The offset at which the next event starts; a reader resumes from here.</summary>
    public long NextOffset { get; }

    /// <summary>Dense, per-partition sequence number starting at 0.</summary>
    public long SequenceNumber { get; }

    /// <summary>UTC ticks at which the hub enqueued the event.</summary>
    public long EnqueuedTicks { get; }

    /// <summary>The encoded event as it was appended.</summary>
    public ReadOnlySpan<byte> Body { get; }

    /// <summary>The enqueued time as a <see cref="DateTimeOffset"/>.</summary>
    public DateTimeOffset EnqueuedTime => new(EnqueuedTicks, TimeSpan.Zero);
}
