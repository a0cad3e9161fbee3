namespace Broker.Protocols.Amqp.Codec;

/// <summary>The frame type byte of the frame header (§2.3.1).</summary>
public enum AmqpFrameType : byte
{
    /// <summary>An AMQP frame: the channel field is the channel.</summary>
    Amqp = 0x00,

    /// <summary>A SASL frame (§5.3.1): the channel field is ignored.</summary>
    Sasl = 0x01,
}
