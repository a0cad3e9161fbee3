using System.Text.Json;

namespace Broker.Plugins.Management;

/// <summary>The twin of a device or module.</summary>
public sealed record DeviceTwin
{
    /// <summary>The device id.</summary>
    public required string DeviceId { get; init; }

    /// <summary>The module id, or null for a device twin.</summary>
    public string? ModuleId { get; init; }

    /// <summary>The twin's current version, for conditional updates.</summary>
    public required string ETag { get; init; }

    /// <summary>The twin's version number, incremented on each change.</summary>
    public long Version { get; init; }

    /// <summary>The tags, a JSON object.</summary>
    public required JsonElement Tags { get; init; }

    /// <summary>The desired properties, a JSON object including <c>$version</c>.</summary>
    public required JsonElement Desired { get; init; }

    /// <summary>The reported properties, a JSON object including <c>$version</c>.</summary>
    public required JsonElement Reported { get; init; }
}
