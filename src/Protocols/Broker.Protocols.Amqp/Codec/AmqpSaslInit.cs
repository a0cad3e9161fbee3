namespace Broker.Protocols.Amqp.Codec;

/// <summary>sasl-init (§5.3.3.2): the mechanism the client chose and its initial response.</summary>
public readonly ref struct AmqpSaslInit : IAmqpPerformative
{
    public ReadOnlySpan<byte> Mechanism { get; init; }

    /// <summary>The initial response (PLAIN: <c>\0user\0password</c>), or empty.</summary>
    public ReadOnlySpan<byte> InitialResponse { get; init; }

    public ReadOnlySpan<byte> Hostname { get; init; }

    public static AmqpSaslInit Decode(ReadOnlySpan<byte> body)
    {
        var reader = new AmqpReader(body);
        AmqpReader f = AmqpPerformativeBody.Start(ref reader, AmqpDescriptor.SaslInit);
        f.RequireField("mechanism");
        var init = new AmqpSaslInit { Mechanism = f.ReadSymbol(), InitialResponse = f.ReadBinaryOrEmpty(), Hostname = f.ReadStringOrEmpty() };
        AmqpPerformativeBody.EnsureEnd(reader);
        return init;
    }

    public void Encode(ref AmqpWriter writer)
    {
        writer.BeginDescribedList(AmqpDescriptor.SaslInit);
        writer.WriteSymbol(Mechanism);
        writer.WriteBinaryOrNull(InitialResponse);
        writer.WriteStringOrNull(Hostname);
        writer.EndList();
    }
}
