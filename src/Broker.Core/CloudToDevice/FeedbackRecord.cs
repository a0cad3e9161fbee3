using System.Text.Json.Serialization;

namespace Broker.Core.CloudToDevice;

/// <summary>One entry of a feedback message, named and shaped as IoT Hub's feedback JSON.</summary>
public sealed record FeedbackRecord
{
    /// <summary>The message id of the cloud-to-device message this reports on.</summary>
    [JsonPropertyName("originalMessageId")]
    public string? OriginalMessageId { get; init; }

    /// <summary>When the outcome happened.</summary>
    [JsonPropertyName("enqueuedTimeUtc")]
    public required DateTimeOffset EnqueuedTimeUtc { get; init; }

    /// <summary>The outcome.</summary>
    [JsonPropertyName("statusCode")]
    [JsonConverter(typeof(JsonStringEnumConverter<FeedbackStatus>))]
    public required FeedbackStatus StatusCode { get; init; }

    /// <summary>The outcome in words.</summary>
    [JsonPropertyName("description")]
    public required string Description { get; init; }

    /// <summary>The device the message was sent to.</summary>
    [JsonPropertyName("deviceId")]
    public required string DeviceId { get; init; }

    /// <summary>The device's generation id.</summary>
    [JsonPropertyName("deviceGenerationId")]
    public string? DeviceGenerationId { get; init; }
}
