using System.Text.Json.Serialization;

namespace Broker.Management;

/// <summary>
/// The status detail of a failed call: the JSON IoT Hub puts (as a string) in the <c>Message</c> of an error
/// body, so tools that already read IoT Hub errors read ours.
/// </summary>
internal sealed record ManagementErrorDetail
{
    [JsonPropertyName("errorCode")]
    public int ErrorCode { get; init; }

    [JsonPropertyName("trackingId")]
    public string? TrackingId { get; init; }

    [JsonPropertyName("message")]
    public string? Message { get; init; }

    [JsonPropertyName("timestampUtc")]
    public string? TimestampUtc { get; init; }
}
