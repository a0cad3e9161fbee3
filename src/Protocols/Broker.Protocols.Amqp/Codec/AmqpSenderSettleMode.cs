namespace Broker.Protocols.Amqp.Codec;

/// <summary>The sender settle mode (§2.8.2), a ubyte on the wire.</summary>
public enum AmqpSenderSettleMode : byte
{
    Unsettled = 0,
    Settled = 1,
    Mixed = 2,
}
