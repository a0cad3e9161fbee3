using Broker.Storage.Faster;
using Microsoft.Extensions.Time.Testing;

namespace Broker.Testing;

/// <summary>Small FASTER stores for tests: small pages and segments so that files roll over quickly.</summary>
internal static class TestStores
{
    /// <summary>The fake clock's start in tests that do not care about the date.</summary>
    public static readonly DateTimeOffset Start = new(2026, 11, 26, 12, 0, 0, TimeSpan.Zero);

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

    /// <summary><see cref="SmallOptions"/> with state pages large enough for a twin at IoT Hub's limits (the small pages are 16 KB).</summary>
    public static FasterStoreOptions TwinSizedOptions(string directory)
    {
        var options = SmallOptions(directory);
        options.StateLog = new LogSizes { PageSizeBits = 18, MemorySizeBits = 19, SegmentSizeBits = 20 };
        options.StateStore.PageBytes = 1 << 18;
        options.StateStore.SegmentBytes = 1 << 20;
        options.StateStore.MemoryBytes = 1 << 21;
        return options;
    }

    public static FasterHubStore Open(FasterStoreOptions options, TimeProvider? time = null)
        => FasterHubStore.Open(options, null, time ?? new FakeTimeProvider(Start));
}
