namespace Broker.Storage.Faster;

/// <summary>Settings of the FASTER storage engine; the defaults work on first start.</summary>
public sealed class FasterStoreOptions
{
    /// <summary>The largest partition count.</summary>
    public const int MaxPartitions = 32;

    /// <summary>The partition count of a new store.</summary>
    public const int DefaultPartitions = 4;

    /// <summary>The data directory (default <c>./data</c>); partition <c>N</c> lives in <c>pNN/</c>.</summary>
    public string DataDirectory { get; set; } = "data";

    /// <summary>
    /// The partition count (1–32). A new store is created with it (4 when unset); an existing store is opened
    /// with the count it was created with, and naming a different one is refused.
    /// </summary>
    public int? PartitionCount { get; set; }

    /// <summary>
    /// Sizes of each partition's events log (default: 4 MiB pages, 32 MiB of memory, 64 MiB segments). Page and
    /// segment sizes are fixed when the store is created (recorded in <c>store.json</c>); the memory size may change.
    /// </summary>
    public LogSizes EventsLog { get; set; } = new() { PageSizeBits = 22, MemorySizeBits = 25 };

    /// <summary>Sizes of each partition's state redo log (page and segment sizes fixed at creation, as for <see cref="EventsLog"/>).</summary>
    public LogSizes StateLog { get; set; } = new() { PageSizeBits = 18, MemorySizeBits = 21, SegmentSizeBits = 24 };

    /// <summary>Sizes of each partition's state KV.</summary>
    public StateStoreSizes StateStore { get; set; } = new();

    /// <summary>How appends are grouped into commits.</summary>
    public GroupCommitOptions GroupCommit { get; set; } = new();

    /// <summary>How often each partition checkpoints its state, applies retention and compacts (default 1 minute).</summary>
    public TimeSpan CheckpointInterval { get; set; } = TimeSpan.FromMinutes(1);

    /// <summary>How long a checkpoint may run before the watchdog reports it (default 2 minutes).</summary>
    public TimeSpan CheckpointWatchdog { get; set; } = TimeSpan.FromMinutes(2);

    /// <summary>How long telemetry is kept (default 1 day, at most 7 days, as IoT Hub allows).</summary>
    public TimeSpan Retention { get; set; } = TimeSpan.FromDays(1);

    /// <summary>How many pages at the end of the events log are checked record by record on recovery (default 4).</summary>
    public int TailVerificationPages { get; set; } = 4;

    internal void Validate()
    {
        if (PartitionCount is < 1 or > MaxPartitions)
        {
            throw new ArgumentOutOfRangeException(nameof(PartitionCount), PartitionCount, $"The partition count must be 1 to {MaxPartitions}.");
        }

        if (Retention <= TimeSpan.Zero || Retention > TimeSpan.FromDays(7))
        {
            throw new ArgumentOutOfRangeException(nameof(Retention), Retention, "Retention must be more than zero and at most 7 days.");
        }

        if (CheckpointInterval <= TimeSpan.Zero)
        {
            throw new ArgumentOutOfRangeException(nameof(CheckpointInterval), CheckpointInterval, "The checkpoint interval must be positive.");
        }

        EventsLog.Validate("events log");
        StateLog.Validate("state log");
    }
}
