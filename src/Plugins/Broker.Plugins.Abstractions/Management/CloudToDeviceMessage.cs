namespace Broker.Plugins.Management;

/// <summary>A cloud-to-device message.</summary>
public sealed record CloudToDeviceMessage
{
    /// <summary>The device the message is for.</summary>
    public required string DeviceId { get; init; }

    /// <summary>The body (at most 64 KB).</summary>
    public ReadOnlyMemory<byte> Body { get; init; }

    /// <summary>The message id, or null to let the hub assign one.</summary>
    public string? MessageId { get; init; }

    /// <summary>The correlation id, if any.</summary>
    public string? CorrelationId { get; init; }

    /// <summary>The application properties, if any.</summary>
    public IReadOnlyDictionary<string, string>? Properties { get; init; }

    /// <summary>When the message expires undelivered, or null for the hub's default time to live.</summary>
    public DateTimeOffset? ExpiresAt { get; init; }
}
