namespace Broker.Protocols.Amqp.Codec;

/// <summary>The close performative (§2.7.9).</summary>
public readonly ref struct AmqpClose : IAmqpPerformative
{
    public AmqpError Error { get; init; }

    public static AmqpClose Decode(ReadOnlySpan<byte> body)
    {
        var reader = new AmqpReader(body);
        AmqpReader f = AmqpPerformativeBody.Start(ref reader, AmqpDescriptor.Close);
        var close = new AmqpClose { Error = AmqpError.ReadOptional(ref f) };
        AmqpPerformativeBody.EnsureEnd(reader);
        return close;
    }

    public void Encode(ref AmqpWriter writer)
    {
        writer.BeginDescribedList(AmqpDescriptor.Close);
        Error.Write(ref writer);
        writer.EndList();
    }
}
