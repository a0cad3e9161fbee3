namespace Broker.Protocols.Amqp.Codec;

/// <summary>sasl-mechanisms (§5.3.3.1): the mechanisms the server offers.</summary>
public readonly ref struct AmqpSaslMechanisms : IAmqpPerformative
{
    /// <summary>The mandatory "multiple symbol" encoding (see <see cref="AmqpSymbols"/>, <see cref="AmqpWriter.WriteSymbolArray"/>).</summary>
    public ReadOnlySpan<byte> Mechanisms { get; init; }

    public static AmqpSaslMechanisms Decode(ReadOnlySpan<byte> body)
    {
        var reader = new AmqpReader(body);
        AmqpReader f = AmqpPerformativeBody.Start(ref reader, AmqpDescriptor.SaslMechanisms);
        f.RequireField("sasl-server-mechanisms");
        var mechanisms = new AmqpSaslMechanisms { Mechanisms = f.ReadMultipleSymbolOrEmpty() };
        AmqpPerformativeBody.EnsureEnd(reader);
        return mechanisms;
    }

    public void Encode(ref AmqpWriter writer)
    {
        writer.BeginDescribedList(AmqpDescriptor.SaslMechanisms);
        writer.WriteEncoded(Mechanisms);
        writer.EndList();
    }
}
