using Broker.Storage.Faster;

namespace Broker.Management.Tests;

/// <summary>Small FASTER stores for tests (copied from the storage tests, which are not referenced).</summary>
internal static class TestStores
{
    public static FasterStoreOptions SmallOptions(string directory, int partitions = 2) => new()
    {
        DataDirectory = directory,
        PartitionCount = partitions,
        EventsLog = new LogSizes { PageSizeBits = 14, MemorySizeBits = 16, SegmentSizeBits = 16 },
        StateLog = new LogSizes { PageSizeBits = 14, MemorySizeBits = 16, SegmentSizeBits = 16 },
        StateStore = new StateStoreSizes { IndexBytes = 1 << 16, MemoryBytes = 1 << 20, PageBytes = 1 << 14, SegmentBytes = 1 << 16, CompactionThresholdBytes = 1 << 18 },
        CheckpointInterval = TimeSpan.FromHours(1), // tests checkpoint explicitly
        TailVerificationPages = 8,
    };
}
