using System.Text.Json.Serialization;

namespace Broker.Core.Registry;

/// <summary>
/// A device identity in IoT Hub's registry JSON shape (<c>/devices/{id}</c>). The hub owns the generation id,
/// etag, connection fields and counters; what a request sends for them is ignored.
/// </summary>
public sealed record Device
{
    /// <summary>The case-sensitive device id.</summary>
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

    /// <summary>Whether the device may connect.</summary>
    [JsonPropertyName("status")]
    public DeviceStatus Status { get; init; }

    /// <summary>Why the status was set (at most 128 characters).</summary>
    [JsonPropertyName("statusReason")]
    public string? StatusReason { get; init; }

    /// <summary>When the connection state last changed (unset = 0001-01-01T00:00:00Z).</summary>
    [JsonPropertyName("connectionStateUpdatedTime")]
    public DateTimeOffset ConnectionStateUpdatedTime { get; init; }

    /// <summary>When the status last changed.</summary>
    [JsonPropertyName("statusUpdatedTime")]
    public DateTimeOffset StatusUpdatedTime { get; init; }

    /// <summary>When the device last connected or sent something.</summary>
    [JsonPropertyName("lastActivityTime")]
    public DateTimeOffset LastActivityTime { get; init; }

    /// <summary>How many cloud-to-device messages are queued.</summary>
    [JsonPropertyName("cloudToDeviceMessageCount")]
    public int CloudToDeviceMessageCount { get; init; }

    /// <summary>The device's credentials.</summary>
    [JsonPropertyName("authentication")]
    public AuthenticationMechanism? Authentication { get; init; }

    /// <summary>The device's capabilities.</summary>
    [JsonPropertyName("capabilities")]
    public DeviceCapabilities? Capabilities { get; init; }

    /// <summary>The scope of an Edge device, or the scope of a leaf device's parent.</summary>
    [JsonPropertyName("deviceScope")]
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public string? DeviceScope { get; init; }

    /// <summary>The scopes of an Edge device's parents.</summary>
    [JsonPropertyName("parentScopes")]
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public IReadOnlyList<string>? ParentScopes { get; init; }
}
