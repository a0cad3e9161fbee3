using System.Text.Json.Serialization;

namespace Broker.Core.Registry;

/// <summary>The registry's <c>connectionState</c>; IoT Hub spells these values in Pascal case.</summary>
[JsonConverter(typeof(JsonStringEnumConverter<DeviceConnectionState>))]
public enum DeviceConnectionState
{
    /// <summary>No MQTT or AMQP connection.</summary>
    [JsonStringEnumMemberName("Disconnected")]
    Disconnected = 0,

    /// <summary>Connected over MQTT or AMQP.</summary>
    [JsonStringEnumMemberName("Connected")]
    Connected = 1,
}
