namespace Broker.Storage.Faster;

/// <summary>
/// Memory and file sizes of one FasterLog (events or state log of a partition). The defaults below are the class's;
/// <see cref="FasterStoreOptions"/> gives each log its own. Page and segment sizes are fixed when a store is created.
/// </summary>
public sealed class LogSizes
{
    /// <summary>Bytes per in-memory page, a power of two (default 1 MiB). A record must fit in one page.</summary>
    public int PageSizeBits { get; set; } = 20;

    /// <summary>In-memory buffer, a power of two of at least two pages (default 16 MiB).</summary>
    public int MemorySizeBits { get; set; } = 24;

    /// <summary>Bytes per segment file, the unit in which retention frees disk (default 64 MiB).</summary>
    public int SegmentSizeBits { get; set; } = 26;

    internal void Validate(string name)
    {
        if (PageSizeBits is < 12 or > 30 || MemorySizeBits < PageSizeBits + 1 || SegmentSizeBits < PageSizeBits || SegmentSizeBits > 40)
        {
            throw new ArgumentException($"{name}: page bits must be 12–30, memory at least two pages, segments at least one page.");
        }
    }
}
