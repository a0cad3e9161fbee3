using System.Text.Json.Serialization;

namespace Broker.Protocols.Mqtt.IotHub;

/// <summary>The error body of a failed twin request: the SDKs read <c>errorCode</c> (and show <c>message</c>).</summary>
internal sealed record TwinError(
    [property: JsonPropertyName("errorCode")] int ErrorCode,
    [property: JsonPropertyName("message")] string Message);

/// <summary>Source-generated JSON for what the MQTT dialect writes itself.</summary>
[JsonSerializable(typeof(TwinError))]
internal sealed partial class IotHubMqttJsonContext : JsonSerializerContext
{
}
