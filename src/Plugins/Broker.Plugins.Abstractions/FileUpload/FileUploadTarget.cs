namespace Broker.Plugins.FileUpload;

/// <summary>Where a device uploads a file; the fields of IoT Hub's file upload response.</summary>
public sealed record FileUploadTarget
{
    /// <summary>Identifies this upload when the device reports its outcome.</summary>
    public required string CorrelationId { get; init; }

    /// <summary>The storage host name.</summary>
    public required string HostName { get; init; }

    /// <summary>The container (or top-level folder) the blob goes to.</summary>
    public required string ContainerName { get; init; }

    /// <summary>The blob's full name in the container.</summary>
    public required string BlobName { get; init; }

    /// <summary>The query string that authorizes the upload, starting with <c>?</c>.</summary>
    public required string SasToken { get; init; }
}
