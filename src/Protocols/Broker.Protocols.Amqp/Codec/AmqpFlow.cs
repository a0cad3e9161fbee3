namespace Broker.Protocols.Amqp.Codec;

/// <summary>The flow performative (§2.7.4): session window and, with a handle, link credit.</summary>
public readonly ref struct AmqpFlow : IAmqpPerformative
{
    public uint? NextIncomingId { get; init; }

    public uint IncomingWindow { get; init; }

    public uint NextOutgoingId { get; init; }

    public uint OutgoingWindow { get; init; }

    /// <summary>The link the flow is about; absent for a session-only flow.</summary>
    public uint? Handle { get; init; }

    public uint? DeliveryCount { get; init; }

    public uint? LinkCredit { get; init; }

    public uint? Available { get; init; }

    public bool? Drain { get; init; }

    public bool? Echo { get; init; }

    public ReadOnlySpan<byte> Properties { get; init; }

    public static AmqpFlow Decode(ReadOnlySpan<byte> body)
    {
        var reader = new AmqpReader(body);
        AmqpFlow flow = Read(ref reader);
        AmqpPerformativeBody.EnsureEnd(reader);
        return flow;
    }

    public static AmqpFlow Read(scoped ref AmqpReader reader)
    {
        AmqpReader f = AmqpPerformativeBody.Start(ref reader, AmqpDescriptor.Flow);
        uint? nextIncomingId = f.ReadUIntOrNull();
        f.RequireField("incoming-window");
        uint incomingWindow = f.ReadUInt();
        f.RequireField("next-outgoing-id");
        uint nextOutgoingId = f.ReadUInt();
        f.RequireField("outgoing-window");
        uint outgoingWindow = f.ReadUInt();
        return new AmqpFlow
        {
            NextIncomingId = nextIncomingId,
            IncomingWindow = incomingWindow,
            NextOutgoingId = nextOutgoingId,
            OutgoingWindow = outgoingWindow,
            Handle = f.ReadUIntOrNull(),
            DeliveryCount = f.ReadUIntOrNull(),
            LinkCredit = f.ReadUIntOrNull(),
            Available = f.ReadUIntOrNull(),
            Drain = f.ReadBooleanOrNull(),
            Echo = f.ReadBooleanOrNull(),
            Properties = f.ReadMapOrEmpty(),
        };
    }

    public void Encode(ref AmqpWriter writer)
    {
        writer.BeginDescribedList(AmqpDescriptor.Flow);
        writer.WriteUInt(NextIncomingId);
        writer.WriteUInt(IncomingWindow);
        writer.WriteUInt(NextOutgoingId);
        writer.WriteUInt(OutgoingWindow);
        writer.WriteUInt(Handle);
        writer.WriteUInt(DeliveryCount);
        writer.WriteUInt(LinkCredit);
        writer.WriteUInt(Available);
        writer.WriteBoolean(Drain);
        writer.WriteBoolean(Echo);
        writer.WriteEncoded(Properties);
        writer.EndList();
    }
}
