namespace Broker.Protocols.Amqp.Codec;

/// <summary>sasl-response (§5.3.3.4).</summary>
public readonly ref struct AmqpSaslResponse : IAmqpPerformative
{
    public ReadOnlySpan<byte> Response { get; init; }

    public static AmqpSaslResponse Decode(ReadOnlySpan<byte> body)
    {
        var reader = new AmqpReader(body);
        AmqpReader f = AmqpPerformativeBody.Start(ref reader, AmqpDescriptor.SaslResponse);
        f.RequireField("response");
        var response = new AmqpSaslResponse { Response = f.ReadBinary() };
        AmqpPerformativeBody.EnsureEnd(reader);
        return response;
    }

    public void Encode(ref AmqpWriter writer)
    {
        writer.BeginDescribedList(AmqpDescriptor.SaslResponse);
        writer.WriteBinary(Response);
        writer.EndList();
    }
}
