using System.Text.Json;
using System.Text.Json.Serialization;

namespace Broker.Plugins.ManagementApi.Rest;

/// <summary>The body of <c>POST /twins/{id}/methods</c>, as the service SDKs send it.</summary>
internal sealed record MethodCall(
    [property: JsonPropertyName("methodName")] string? MethodName,
    [property: JsonPropertyName("payload")] JsonElement Payload,
    [property: JsonPropertyName("responseTimeoutInSeconds")] int? ResponseTimeoutInSeconds,
    [property: JsonPropertyName("connectTimeoutInSeconds")] int? ConnectTimeoutInSeconds);

/// <summary>The answer of <c>DELETE /devices/{id}/commands</c>.</summary>
internal sealed record PurgeResult(
    [property: JsonPropertyName("totalMessagesPurged")] int TotalMessagesPurged,
    [property: JsonPropertyName("deviceId")] string DeviceId,
    [property: JsonPropertyName("moduleId")] string? ModuleId);

/// <summary>The body of <c>POST /devices/query</c>.</summary>
internal sealed record QueryRequest([property: JsonPropertyName("query")] string? Query);

/// <summary>The answer of <c>GET /statistics/devices</c>.</summary>
internal sealed record DeviceStatistics(
    [property: JsonPropertyName("totalDeviceCount")] int TotalDeviceCount,
    [property: JsonPropertyName("enabledDeviceCount")] int EnabledDeviceCount,
    [property: JsonPropertyName("disabledDeviceCount")] int DisabledDeviceCount);

/// <summary>The answer of <c>GET /statistics/service</c>.</summary>
internal sealed record ServiceStatistics([property: JsonPropertyName("connectedDeviceCount")] int ConnectedDeviceCount);

/// <summary>Source-generated JSON of the service REST API's own bodies.</summary>
[JsonSerializable(typeof(MethodCall))]
[JsonSerializable(typeof(PurgeResult))]
[JsonSerializable(typeof(QueryRequest))]
[JsonSerializable(typeof(DeviceStatistics))]
[JsonSerializable(typeof(ServiceStatistics))]
[JsonSerializable(typeof(JsonElement))]
internal sealed partial class RestJsonContext : JsonSerializerContext
{
}
