namespace Broker.Plugins.FileUpload;

/// <summary>A device's request for a location to upload a file to.</summary>
public sealed record FileUploadRequest
{
    /// <summary>The device that uploads.</summary>
    public required string DeviceId { get; init; }

    /// <summary>The module that uploads, or null for the device itself.</summary>
    public string? ModuleId { get; init; }

    /// <summary>The name the device asked for; IoT Hub stores it as <c>{deviceId}/{blobName}</c>.</summary>
    public required string BlobName { get; init; }

    /// <summary>Until when the upload location must accept the upload (the hub's SAS time to live).</summary>
    public required DateTimeOffset ExpiresAt { get; init; }
}
