using System.Buffers;

namespace Broker.Core.Storage;

/// <summary>
/// A partition's events log: appends are ordered, stamped with a sequence number and enqueued time, and durable
/// after the group commit that covers them. Named readers (consumer groups, endpoints) keep durable positions
/// and hold back retention.
/// </summary>
public interface ITelemetryLog : IDurableLog
{
    /// <summary>The oldest offset still readable.</summary>
    long BeginOffset { get; }

    /// <summary>The offset the next event will get.</summary>
    long TailOffset { get; }

    /// <summary>The sequence number the next event will get.</summary>
    long NextSequenceNumber { get; }

    /// <summary>Appends one event; when <paramref name="callback"/> is given it is told once the event is durable.</summary>
    TelemetryAppend Append(ReadOnlySpan<byte> body, IDurabilityCallback? callback = null, long token = 0);

    /// <summary>Appends one event whose body spans several buffers (as read from a pipe).</summary>
    TelemetryAppend Append(in ReadOnlySequence<byte> body, IDurabilityCallback? callback = null, long token = 0);

    /// <summary>
    /// True when an event of <paramref name="bodyLength"/> bytes can be appended now; when false, an append would
    /// block its thread until the disk catches up, so network callers wait with <see cref="WaitForRoomAsync"/> instead.
    /// </summary>
    bool HasRoomFor(int bodyLength);

    /// <summary>Completes once an event of <paramref name="bodyLength"/> bytes can be appended without blocking.</summary>
    ValueTask WaitForRoomAsync(int bodyLength, CancellationToken cancellationToken = default);

    /// <summary>Opens a cursor at <paramref name="offset"/> (clamped to what is still retained).</summary>
    ITelemetryReader OpenReader(long offset);

    /// <summary>The offset of the first event enqueued at or after <paramref name="enqueuedTicks"/> (the tail if none).</summary>
    long FindOffset(long enqueuedTicks);

    /// <summary>The committed position of a named reader, or null if it has none.</summary>
    long? GetReaderPosition(string name);

    /// <summary>Records a named reader's position; returns the state-log address that makes it durable.</summary>
    long SetReaderPosition(string name, long offset);

    /// <summary>Forgets a named reader, so that it no longer holds back retention.</summary>
    long DeleteReader(string name);

    /// <summary>The names of all readers with a recorded position.</summary>
    IReadOnlyList<string> ReaderNames { get; }
}
