namespace Broker.Protocols.Amqp.Codec;

/// <summary>sasl-challenge (§5.3.3.3).</summary>
public readonly ref struct AmqpSaslChallenge : IAmqpPerformative
{
    public ReadOnlySpan<byte> Challenge { get; init; }

    public static AmqpSaslChallenge Decode(ReadOnlySpan<byte> body)
    {
        var reader = new AmqpReader(body);
        AmqpReader f = AmqpPerformativeBody.Start(ref reader, AmqpDescriptor.SaslChallenge);
        f.RequireField("challenge");
        var challenge = new AmqpSaslChallenge { Challenge = f.ReadBinary() };
        AmqpPerformativeBody.EnsureEnd(reader);
        return challenge;
    }

    public void Encode(ref AmqpWriter writer)
    {
        writer.BeginDescribedList(AmqpDescriptor.SaslChallenge);
        writer.WriteBinary(Challenge);
        writer.EndList();
    }
}
