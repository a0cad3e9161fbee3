using System.Text.Json.Serialization;

namespace Broker.Storage.Faster.Recovery;

/// <summary>
/// What recovery of a partition starts from: the state checkpoint and the redo-log address after it, plus
/// lower bounds of what each log had made durable (losing commit metadata then cannot pass unnoticed).
/// </summary>
internal sealed record PartitionManifest
{
    public const int CurrentFormat = 1;

    public int Format { get; init; } = CurrentFormat;

    public int Partition { get; init; }

    /// <summary>The state KV checkpoint to restore, or null before the first checkpoint.</summary>
    public Guid? CheckpointToken { get; init; }

    /// <summary>Redo records from here on are replayed after the checkpoint.</summary>
    public long StateLogAddress { get; init; } = Commit.DurableLog.FirstAddress;

    public long StateDurableAddress { get; init; }

    public long EventsDurableAddress { get; init; }

    /// <summary>The events log's next sequence number when this was written (survives full truncation).</summary>
    public long EventsNextSequence { get; init; }

    public DateTimeOffset WrittenUtc { get; init; }

    /// <summary>CRC-32C of the manifest serialized with this field zero.</summary>
    [JsonPropertyOrder(100)]
    public uint Checksum { get; init; }
}
