using System.Text.Json;
using Broker.Core.Storage;

namespace Broker.Storage.Faster.Recovery;

/// <summary>
/// The data directory's identity, fixed when the store is created: format, partition count, and the page and segment
/// sizes of both logs (a log's records never straddle a page and its segment files are numbered by segment size, so a
/// log must be reopened with the sizes it was written with; the memory size may change).
/// </summary>
internal sealed record StoreDescriptor(int Format, int PartitionCount, DateTimeOffset CreatedUtc, LogLayout? EventsLog = null, LogLayout? StateLog = null)
{
    public const string FileName = "store.json";
    public const int CurrentFormat = 1;

    /// <summary>What stores made before the layouts were recorded used: the defaults of that time.</summary>
    public static readonly LogLayout LegacyEventsLog = new(PageSizeBits: 20, SegmentSizeBits: 26);

    /// <inheritdoc cref="LegacyEventsLog"/>
    public static readonly LogLayout LegacyStateLog = new(PageSizeBits: 18, SegmentSizeBits: 24);

    /// <summary>Reads the descriptor, or creates it for a new store; refuses a different partition count.</summary>
    public static StoreDescriptor OpenOrCreate(string dataDirectory, int? requestedPartitions, LogSizes eventsLog, LogSizes stateLog, DateTimeOffset now)
    {
        Directory.CreateDirectory(dataDirectory);
        var path = Path.Combine(dataDirectory, FileName);
        if (!File.Exists(path))
        {
            if (Directory.EnumerateDirectories(dataDirectory, "p??").Any())
            {
                throw new StorageException("The data directory holds partitions but no store descriptor", path);
            }

            var created = new StoreDescriptor(CurrentFormat, requestedPartitions ?? FasterStoreOptions.DefaultPartitions, now,
                LogLayout.Of(eventsLog), LogLayout.Of(stateLog));
            Write(path, created);
            return created;
        }

        StoreDescriptor? descriptor;
        try
        {
            descriptor = JsonSerializer.Deserialize<StoreDescriptor>(File.ReadAllBytes(path));
        }
        catch (JsonException ex)
        {
            throw new StorageException("The store descriptor is corrupt", path, ex);
        }

        if (descriptor is null || descriptor.Format != CurrentFormat)
        {
            throw new StorageException("The store descriptor has an unknown format", path);
        }

        if (requestedPartitions is { } partitionCount && descriptor.PartitionCount != partitionCount)
        {
            throw new StorageException(
                $"The store was created with {descriptor.PartitionCount} partitions and cannot be opened with {partitionCount}; the partition count is fixed at creation",
                path);
        }

        if (descriptor.EventsLog is null || descriptor.StateLog is null)
        {
            // Recorded from now on, so that changing the defaults can never reopen this store with other sizes.
            descriptor = descriptor with { EventsLog = descriptor.EventsLog ?? LegacyEventsLog, StateLog = descriptor.StateLog ?? LegacyStateLog };
            Write(path, descriptor);
        }

        return descriptor;
    }

    private static void Write(string path, StoreDescriptor descriptor)
    {
        var temp = path + ".tmp";
        File.WriteAllBytes(temp, JsonSerializer.SerializeToUtf8Bytes(descriptor, new JsonSerializerOptions { WriteIndented = true }));
        File.Move(temp, path, overwrite: true);
    }
}

/// <summary>The sizes a log's files depend on, as powers of two.</summary>
internal sealed record LogLayout(int PageSizeBits, int SegmentSizeBits)
{
    public static LogLayout Of(LogSizes sizes) => new(sizes.PageSizeBits, sizes.SegmentSizeBits);

    /// <summary>
    /// <paramref name="configured"/> with this layout's page and segment sizes (the memory grown to two pages if it
    /// is smaller), and whether the configured sizes had to be overridden.
    /// </summary>
    public LogSizes Apply(LogSizes configured, out bool overridden)
    {
        overridden = configured.PageSizeBits != PageSizeBits || configured.SegmentSizeBits != SegmentSizeBits;
        return new LogSizes
        {
            PageSizeBits = PageSizeBits,
            SegmentSizeBits = SegmentSizeBits,
            MemorySizeBits = Math.Max(configured.MemorySizeBits, PageSizeBits + 1),
        };
    }
}
