namespace Broker.Plugins.FileUpload;

/// <summary>A device's report of how an upload went.</summary>
public sealed record FileUploadCompletion
{
    /// <summary>The device that uploaded.</summary>
    public required string DeviceId { get; init; }

    /// <summary>The <see cref="FileUploadTarget.CorrelationId"/> of the upload.</summary>
    public required string CorrelationId { get; init; }

    /// <summary>Whether the device says the upload succeeded.</summary>
    public bool IsSuccess { get; init; }

    /// <summary>The status code the device got from storage.</summary>
    public int StatusCode { get; init; }

    /// <summary>The device's description of the outcome, if any.</summary>
    public string? StatusDescription { get; init; }
}
