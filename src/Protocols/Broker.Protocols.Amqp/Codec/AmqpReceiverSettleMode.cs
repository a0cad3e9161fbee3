namespace Broker.Protocols.Amqp.Codec;

/// <summary>The receiver settle mode (§2.8.3), a ubyte on the wire.</summary>
public enum AmqpReceiverSettleMode : byte
{
    First = 0,
    Second = 1,
}
