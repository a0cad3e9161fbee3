namespace Broker.Plugins.Routing;

/// <summary>A device-to-cloud message on its way to a routing endpoint.</summary>
public readonly record struct RoutedMessage
{
    /// <summary>The device that sent the message.</summary>
    public required string DeviceId { get; init; }

    /// <summary>The module that sent the message, or null when the device itself sent it.</summary>
    public string? ModuleId { get; init; }

    /// <summary>When the hub accepted the message.</summary>
    public DateTimeOffset EnqueuedTime { get; init; }

    /// <summary>The message's position in its partition's event stream; stable across redeliveries.</summary>
    public long SequenceNumber { get; init; }

    /// <summary>The application properties the device set.</summary>
    public required IReadOnlyDictionary<string, string> Properties { get; init; }

    /// <summary>
    /// The system properties, under IoT Hub's names (<c>message-id</c>, <c>correlation-id</c>, <c>content-type</c>,
    /// <c>content-encoding</c>, <c>iothub-connection-device-id</c>, <c>iothub-enqueuedtime</c>…).
    /// </summary>
    public required IReadOnlyDictionary<string, string> SystemProperties { get; init; }

    /// <summary>The body; only valid until the <see cref="IEndpointSink.WriteAsync"/> call that received it completes.</summary>
    public ReadOnlyMemory<byte> Body { get; init; }
}
