using System.Text.Json;
using Broker.Core.Storage;

namespace Broker.Storage.Faster.Recovery;

/// <summary>The data directory's identity: format and partition count, fixed when the store is created.</summary>
internal sealed record StoreDescriptor(int Format, int PartitionCount, DateTimeOffset CreatedUtc)
{
    public const string FileName = "store.json";
    public const int CurrentFormat = 1;

    /// <summary>Reads the descriptor, or creates it for a new store; refuses a different partition count.</summary>
    public static StoreDescriptor OpenOrCreate(string dataDirectory, int? requestedPartitions, DateTimeOffset now)
    {
        Directory.CreateDirectory(dataDirectory);
        var path = Path.Combine(dataDirectory, FileName);
        if (!File.Exists(path))
        {
            if (Directory.EnumerateDirectories(dataDirectory, "p??").Any())
            {
                throw new StorageException("The data directory holds partitions but no store descriptor", path);
            }

            var created = new StoreDescriptor(CurrentFormat, requestedPartitions ?? FasterStoreOptions.DefaultPartitions, now);
            var temp = path + ".tmp";
            File.WriteAllBytes(temp, JsonSerializer.SerializeToUtf8Bytes(created, new JsonSerializerOptions { WriteIndented = true }));
            File.Move(temp, path);
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

        return descriptor;
    }
}
