namespace Broker.Protocols.Amqp.Codec;

/// <summary>sasl-outcome (§5.3.3.5).</summary>
public readonly ref struct AmqpSaslOutcome : IAmqpPerformative
{
    public AmqpSaslCode Code { get; init; }

    public ReadOnlySpan<byte> AdditionalData { get; init; }

    public static AmqpSaslOutcome Decode(ReadOnlySpan<byte> body)
    {
        var reader = new AmqpReader(body);
        AmqpReader f = AmqpPerformativeBody.Start(ref reader, AmqpDescriptor.SaslOutcome);
        f.RequireField("code");
        byte code = f.ReadUByte();
        if (code > (byte)AmqpSaslCode.SysTemp)
        {
            AmqpDecodeException.Throw(AmqpDecodeError.InvalidField, "sasl-code");
        }

        var outcome = new AmqpSaslOutcome { Code = (AmqpSaslCode)code, AdditionalData = f.ReadBinaryOrEmpty() };
        AmqpPerformativeBody.EnsureEnd(reader);
        return outcome;
    }

    public void Encode(ref AmqpWriter writer)
    {
        writer.BeginDescribedList(AmqpDescriptor.SaslOutcome);
        writer.WriteUByte((byte)Code);
        writer.WriteBinaryOrNull(AdditionalData);
        writer.EndList();
    }
}
