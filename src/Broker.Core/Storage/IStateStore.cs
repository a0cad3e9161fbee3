using System.Buffers;

namespace Broker.Core.Storage;

/// <summary>
/// A partition's key/value state. Every change is first written to the partition's redo log; the returned
/// address says when it is durable (see <see cref="IDurableLog"/>), and only then may it be acknowledged.
/// Reads see changes as soon as they are made.
/// </summary>
public interface IStateStore : IDurableLog
{
    /// <summary>Copies the value of <paramref name="key"/> into <paramref name="value"/>; false if absent.</summary>
    bool TryRead(StateRecordKind kind, ReadOnlySpan<byte> key, IBufferWriter<byte> value);

    /// <summary>Writes <paramref name="value"/> and returns the redo-log address that makes it durable.</summary>
    long Upsert(StateRecordKind kind, ReadOnlySpan<byte> key, ReadOnlySpan<byte> value);

    /// <summary>Deletes <paramref name="key"/> (absent keys are fine) and returns the redo-log address.</summary>
    long Delete(StateRecordKind kind, ReadOnlySpan<byte> key);

    /// <summary>Visits every live record of <paramref name="kind"/> whose key starts with <paramref name="keyPrefix"/>.</summary>
    void Scan(StateRecordKind kind, ReadOnlySpan<byte> keyPrefix, IStateVisitor visitor);
}
