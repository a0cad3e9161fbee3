namespace Broker.Protocols.Amqp.Codec;

/// <summary>Reads the enumerated ubyte and boolean fields of performatives, rejecting out-of-range values.</summary>
internal static class AmqpSettleModes
{
    public static AmqpSenderSettleMode? ReadSender(scoped ref AmqpReader reader)
    {
        byte? value = reader.ReadUByteOrNull();
        if (value > (byte)AmqpSenderSettleMode.Mixed)
        {
            AmqpDecodeException.Throw(AmqpDecodeError.InvalidField, "snd-settle-mode");
        }

        return (AmqpSenderSettleMode?)value;
    }

    public static AmqpReceiverSettleMode? ReadReceiver(scoped ref AmqpReader reader)
    {
        byte? value = reader.ReadUByteOrNull();
        if (value > (byte)AmqpReceiverSettleMode.Second)
        {
            AmqpDecodeException.Throw(AmqpDecodeError.InvalidField, "rcv-settle-mode");
        }

        return (AmqpReceiverSettleMode?)value;
    }

    public static AmqpRole ReadRole(scoped ref AmqpReader reader)
    {
        reader.RequireField("role");
        return reader.ReadBoolean() ? AmqpRole.Receiver : AmqpRole.Sender;
    }
}
