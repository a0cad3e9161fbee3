namespace Broker.Protocols.Amqp.Codec;

/// <summary>The end performative (§2.7.8).</summary>
public readonly ref struct AmqpEnd : IAmqpPerformative
{
    public AmqpError Error { get; init; }

    public static AmqpEnd Decode(ReadOnlySpan<byte> body)
    {
        var reader = new AmqpReader(body);
        AmqpReader f = AmqpPerformativeBody.Start(ref reader, AmqpDescriptor.End);
        var end = new AmqpEnd { Error = AmqpError.ReadOptional(ref f) };
        AmqpPerformativeBody.EnsureEnd(reader);
        return end;
    }

    public void Encode(ref AmqpWriter writer)
    {
        writer.BeginDescribedList(AmqpDescriptor.End);
        Error.Write(ref writer);
        writer.EndList();
    }
}
