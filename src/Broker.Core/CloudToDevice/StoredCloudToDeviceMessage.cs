using System.Text.Json.Serialization;

namespace Broker.Core.CloudToDevice;

/// <summary>A queued cloud-to-device message as the partition's state store keeps it.</summary>
public sealed record StoredCloudToDeviceMessage
{
    /// <summary>The target device.</summary>
    public required string DeviceId { get; init; }

    /// <summary>Position in the device's queue; rises with every message sent to the device.</summary>
    public required long SequenceNumber { get; init; }

    /// <summary>See <see cref="CloudToDeviceRequest.MessageId"/>.</summary>
    public string? MessageId { get; init; }

    /// <summary>See <see cref="CloudToDeviceRequest.CorrelationId"/>.</summary>
    public string? CorrelationId { get; init; }

    /// <summary>See <see cref="CloudToDeviceRequest.UserId"/>.</summary>
    public string? UserId { get; init; }

    /// <summary>See <see cref="CloudToDeviceRequest.ContentType"/>.</summary>
    public string? ContentType { get; init; }

    /// <summary>See <see cref="CloudToDeviceRequest.ContentEncoding"/>.</summary>
    public string? ContentEncoding { get; init; }

    /// <summary>See <see cref="CloudToDeviceRequest.Ack"/>.</summary>
    [JsonConverter(typeof(JsonStringEnumConverter<FeedbackMode>))]
    public FeedbackMode Ack { get; init; }

    /// <summary>When the hub accepted the message.</summary>
    public required DateTimeOffset EnqueuedTime { get; init; }

    /// <summary>When the message expires.</summary>
    public required DateTimeOffset ExpiryTime { get; init; }

    /// <summary>How many times the device abandoned it.</summary>
    public int DeliveryCount { get; init; }

    /// <summary>The device's generation id when the message was sent (feedback reports it).</summary>
    public string? DeviceGenerationId { get; init; }

    /// <summary>Application properties.</summary>
    public Dictionary<string, string?> Properties { get; init; } = [];

    /// <summary>The body.</summary>
    public required byte[] Body { get; init; }
}
