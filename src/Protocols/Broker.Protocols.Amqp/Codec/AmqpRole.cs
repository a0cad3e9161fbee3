namespace Broker.Protocols.Amqp.Codec;

/// <summary>The role of a link endpoint (§2.8.1), a boolean on the wire.</summary>
public enum AmqpRole : byte
{
    /// <summary>false: the endpoint sends messages.</summary>
    Sender = 0,

    /// <summary>true: the endpoint receives messages.</summary>
    Receiver = 1,
}
