namespace Broker.Storage.Faster;

/// <summary>Memory and file sizes of a partition's state KV (FasterKV over SpanByte).</summary>
public sealed class StateStoreSizes
{
    /// <summary>Hash index size in bytes, a power of two (default 1 MiB: 16,384 buckets of 64 B).</summary>
    public long IndexBytes { get; set; } = 1L << 20;

    /// <summary>In-memory log size in bytes (default 64 MiB); older records spill to disk.</summary>
    public long MemoryBytes { get; set; } = 1L << 26;

    /// <summary>Log page size in bytes (default 1 MiB).</summary>
    public long PageBytes { get; set; } = 1L << 20;

    /// <summary>Log segment file size in bytes (default 64 MiB).</summary>
    public long SegmentBytes { get; set; } = 1L << 26;

    /// <summary>Compact the KV log once it spans more than this many bytes on disk (default 256 MiB).</summary>
    public long CompactionThresholdBytes { get; set; } = 1L << 28;
}
