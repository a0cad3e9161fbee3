namespace Broker.Protocols.Amqp.Codec;

/// <summary>The protocol id byte of the protocol header (§2.2).</summary>
public enum AmqpProtocolId : byte
{
    /// <summary><c>AMQP 0 1.0.0</c>: AMQP frames follow.</summary>
    Amqp = 0,

    /// <summary><c>AMQP 2 1.0.0</c>: a TLS handshake follows (§5.2.1).</summary>
    Tls = 2,

    /// <summary><c>AMQP 3 1.0.0</c>: SASL frames follow (§5.3.1).</summary>
    Sasl = 3,
}
