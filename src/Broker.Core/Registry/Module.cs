using System.Text.Json.Serialization;

namespace Broker.Core.Registry;

/// <summary>
/// A module identity in IoT Hub's registry JSON shape (<c>/devices/{id}/modules/{mid}</c>). Modules have no
/// status of their own: they cannot be disabled.
/// </summary>
public sealed record Module
{
    /// <summary>The case-sensitive module id.</summary>
    [JsonPropertyName("moduleId")]
    public string ModuleId { get; init; } = "";

    /// <summary>Who manages the module (<c>IotEdge</c> for Edge modules).</summary>
    [JsonPropertyName("managedBy")]
    public string? ManagedBy { get; init; }

    /// <summary>The device the module belongs to.</summary>
    [JsonPropertyName("deviceId")]
    public string DeviceId { get; init; } = "";

    /// <summary>Assigned on create; differs when an id is deleted and registered again.</summary>
    [JsonPropertyName("generationId")]
    public string? GenerationId { get; init; }

    /// <summary>Opaque version, unquoted here and quoted in the ETag header.</summary>
    [JsonPropertyName("etag")]
    public string? ETag { get; init; }

    /// <summary>Whether an MQTT or AMQP connection is open.</summary>
    [JsonPropertyName("connectionState")]
    public DeviceConnectionState ConnectionState { get; init; }

    /// <summary>When the connection state last changed.</summary>
    [JsonPropertyName("connectionStateUpdatedTime")]
    public DateTimeOffset ConnectionStateUpdatedTime { get; init; }

    /// <summary>When the module last connected or sent something.</summary>
    [JsonPropertyName("lastActivityTime")]
    public DateTimeOffset LastActivityTime { get; init; }

    /// <summary>How many cloud-to-device messages are queued.</summary>
    [JsonPropertyName("cloudToDeviceMessageCount")]
    public int CloudToDeviceMessageCount { get; init; }

    /// <summary>The module's credentials.</summary>
    [JsonPropertyName("authentication")]
    public AuthenticationMechanism? Authentication { get; init; }
}
