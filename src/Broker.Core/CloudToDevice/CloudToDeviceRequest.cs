namespace Broker.Core.CloudToDevice;

/// <summary>A cloud-to-device message as a back end sends it.</summary>
public sealed record CloudToDeviceRequest
{
    /// <summary>The message body (at most 64 KB).</summary>
    public required ReadOnlyMemory<byte> Body { get; init; }

    /// <summary>The message id (<c>$.mid</c>); feedback correlates on it.</summary>
    public string? MessageId { get; init; }

    /// <summary>The correlation id (<c>$.cid</c>).</summary>
    public string? CorrelationId { get; init; }

    /// <summary>The user id (<c>$.uid</c>).</summary>
    public string? UserId { get; init; }

    /// <summary>The content type (<c>$.ct</c>).</summary>
    public string? ContentType { get; init; }

    /// <summary>The content encoding (<c>$.ce</c>).</summary>
    public string? ContentEncoding { get; init; }

    /// <summary>Which outcomes produce feedback.</summary>
    public FeedbackMode Ack { get; init; }

    /// <summary>Time to live; null means the hub's default.</summary>
    public TimeSpan? TimeToLive { get; init; }

    /// <summary>Application properties.</summary>
    public IReadOnlyDictionary<string, string?> Properties { get; init; } = new Dictionary<string, string?>();
}
