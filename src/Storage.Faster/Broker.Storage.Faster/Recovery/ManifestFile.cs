using System.Text.Json;
using Broker.Core.Storage;
using Broker.Storage.Faster.Records;

namespace Broker.Storage.Faster.Recovery;

/// <summary>Reads and atomically replaces a partition's manifest (write temp, fsync, rename).</summary>
internal static class ManifestFile
{
    public const string FileName = "manifest.json";

    private static readonly JsonSerializerOptions Json = new() { WriteIndented = true };

    public static PartitionManifest? TryRead(string partitionDirectory)
    {
        var path = Path.Combine(partitionDirectory, FileName);
        if (!File.Exists(path))
        {
            return null;
        }

        PartitionManifest? manifest;
        try
        {
            manifest = JsonSerializer.Deserialize<PartitionManifest>(File.ReadAllBytes(path), Json);
        }
        catch (Exception ex) when (ex is JsonException or IOException)
        {
            throw new StorageException("The partition manifest is unreadable or corrupt", path, ex);
        }

        if (manifest is null || manifest.Format != PartitionManifest.CurrentFormat || manifest.Checksum != ChecksumOf(manifest))
        {
            throw new StorageException("The partition manifest is corrupt (format or checksum mismatch)", path);
        }

        return manifest;
    }

    public static void Write(string partitionDirectory, PartitionManifest manifest)
    {
        var path = Path.Combine(partitionDirectory, FileName);
        var temp = path + ".tmp";
        var sealedManifest = manifest with { Checksum = ChecksumOf(manifest) };
        try
        {
            using (var stream = new FileStream(temp, FileMode.Create, FileAccess.Write, FileShare.None, 4096, FileOptions.WriteThrough))
            {
                JsonSerializer.Serialize(stream, sealedManifest, Json);
                stream.Flush(flushToDisk: true);
            }

            File.Move(temp, path, overwrite: true);
            DirectorySync.Flush(partitionDirectory);
        }
        catch (IOException ex)
        {
            throw new StorageException("The partition manifest could not be written", path, ex);
        }
    }

    private static uint ChecksumOf(PartitionManifest manifest)
        => Crc32C.Compute(JsonSerializer.SerializeToUtf8Bytes(manifest with { Checksum = 0 }, Json));
}
