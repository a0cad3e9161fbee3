namespace Broker.Plugins.FileUpload;

/// <summary>A file a device finished uploading; the contents of the service's file upload notification.</summary>
public sealed record UploadedFile
{
    /// <summary>The blob's full name.</summary>
    public required string BlobName { get; init; }

    /// <summary>Where a back end can read the file.</summary>
    public required Uri BlobUri { get; init; }

    /// <summary>The file's size, if the storage knows it.</summary>
    public long? SizeInBytes { get; init; }

    /// <summary>When the file was last written.</summary>
    public DateTimeOffset LastUpdatedTime { get; init; }
}
