namespace Broker.Protocols.Amqp.Codec;

/// <summary>The AMQP type of a message-id or correlation-id (§3.2.11-3.2.14).</summary>
public enum AmqpMessageIdKind : byte
{
    None,
    ULong,
    Uuid,
    Binary,
    String,
}
