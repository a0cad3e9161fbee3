using System.Text.Json;

namespace Broker.Plugins.Management;

/// <summary>A patch of a twin's tags and desired properties (JSON merge patch: a null value removes a property).</summary>
public sealed record TwinUpdate
{
    /// <summary>The device id.</summary>
    public required string DeviceId { get; init; }

    /// <summary>The module id, or null for a device twin.</summary>
    public string? ModuleId { get; init; }

    /// <summary>The etag the patch is conditional on, or null to apply it whatever the twin's version.</summary>
    public string? ETag { get; init; }

    /// <summary>The tags patch, a JSON object; null leaves the tags alone.</summary>
    public JsonElement? Tags { get; init; }

    /// <summary>The desired properties patch, a JSON object; null leaves them alone.</summary>
    public JsonElement? Desired { get; init; }
}
