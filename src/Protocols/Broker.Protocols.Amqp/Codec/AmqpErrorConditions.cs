namespace Broker.Protocols.Amqp.Codec;

/// <summary>
/// The AMQP error condition symbols the broker sends or recognises, as UTF-8 (ASCII) bytes: the core conditions of
/// AMQP 1.0 §2.8.15-2.8.18 and the <c>com.microsoft:</c> ones IoT Hub clients map to their exceptions.
/// </summary>
public static class AmqpErrorConditions
{
    // amqp-error (§2.8.15)
    public static ReadOnlySpan<byte> InternalError => "amqp:internal-error"u8;
    public static ReadOnlySpan<byte> NotFound => "amqp:not-found"u8;
    public static ReadOnlySpan<byte> UnauthorizedAccess => "amqp:unauthorized-access"u8;
    public static ReadOnlySpan<byte> DecodeError => "amqp:decode-error"u8;
    public static ReadOnlySpan<byte> ResourceLimitExceeded => "amqp:resource-limit-exceeded"u8;
    public static ReadOnlySpan<byte> NotAllowed => "amqp:not-allowed"u8;
    public static ReadOnlySpan<byte> InvalidField => "amqp:invalid-field"u8;
    public static ReadOnlySpan<byte> NotImplemented => "amqp:not-implemented"u8;
    public static ReadOnlySpan<byte> ResourceLocked => "amqp:resource-locked"u8;
    public static ReadOnlySpan<byte> PreconditionFailed => "amqp:precondition-failed"u8;
    public static ReadOnlySpan<byte> ResourceDeleted => "amqp:resource-deleted"u8;
    public static ReadOnlySpan<byte> IllegalState => "amqp:illegal-state"u8;
    public static ReadOnlySpan<byte> FrameSizeTooSmall => "amqp:frame-size-too-small"u8;

    // connection-error (§2.8.16)
    public static ReadOnlySpan<byte> ConnectionForced => "amqp:connection:forced"u8;
    public static ReadOnlySpan<byte> FramingError => "amqp:connection:framing-error"u8;
    public static ReadOnlySpan<byte> ConnectionRedirect => "amqp:connection:redirect"u8;

    // session-error (§2.8.17)
    public static ReadOnlySpan<byte> WindowViolation => "amqp:session:window-violation"u8;
    public static ReadOnlySpan<byte> ErrantLink => "amqp:session:errant-link"u8;
    public static ReadOnlySpan<byte> HandleInUse => "amqp:session:handle-in-use"u8;
    public static ReadOnlySpan<byte> UnattachedHandle => "amqp:session:unattached-handle"u8;

    // link-error (§2.8.18)
    public static ReadOnlySpan<byte> DetachForced => "amqp:link:detach-forced"u8;
    public static ReadOnlySpan<byte> TransferLimitExceeded => "amqp:link:transfer-limit-exceeded"u8;
    public static ReadOnlySpan<byte> MessageSizeExceeded => "amqp:link:message-size-exceeded"u8;
    public static ReadOnlySpan<byte> LinkRedirect => "amqp:link:redirect"u8;
    public static ReadOnlySpan<byte> LinkStolen => "amqp:link:stolen"u8;

    // IoT Hub / Azure (AmqpIotErrorAdapter in the C# device SDK)
    public static ReadOnlySpan<byte> DeviceContainerThrottled => "com.microsoft:device-container-throttled"u8;
    public static ReadOnlySpan<byte> MessageLockLost => "com.microsoft:message-lock-lost"u8;
    public static ReadOnlySpan<byte> Timeout => "com.microsoft:timeout"u8;
    public static ReadOnlySpan<byte> ArgumentError => "com.microsoft:argument-error"u8;
    public static ReadOnlySpan<byte> ArgumentOutOfRange => "com.microsoft:argument-out-of-range"u8;
    public static ReadOnlySpan<byte> IotHubSuspended => "com.microsoft:iot-hub-suspended"u8;
    public static ReadOnlySpan<byte> IotHubNotFound => "com.microsoft:iot-hub-not-found-error"u8;
    public static ReadOnlySpan<byte> TrackingId => "com.microsoft:tracking-id"u8;
}
