using System.Text.Json.Serialization;

namespace Broker.Core.Registry;

/// <summary>Whether a device may connect (<c>status</c> in the registry JSON).</summary>
[JsonConverter(typeof(JsonStringEnumConverter<DeviceStatus>))]
public enum DeviceStatus
{
    /// <summary>The device may connect (the default when a request leaves it out).</summary>
    [JsonStringEnumMemberName("enabled")]
    Enabled = 0,

    /// <summary>Device endpoints are refused and live connections dropped.</summary>
    [JsonStringEnumMemberName("disabled")]
    Disabled = 1,
}
