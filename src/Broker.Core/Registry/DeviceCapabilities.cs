using System.Text.Json.Serialization;

namespace Broker.Core.Registry;

/// <summary>The <c>capabilities</c> object of a device.</summary>
public sealed record DeviceCapabilities
{
    /// <summary>Whether the device is an IoT Edge device.</summary>
    [JsonPropertyName("iotEdge")]
    public bool IotEdge { get; init; }
}
