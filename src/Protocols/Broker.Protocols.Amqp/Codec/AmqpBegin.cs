namespace Broker.Protocols.Amqp.Codec;

/// <summary>The begin performative (§2.7.2).</summary>
public readonly ref struct AmqpBegin : IAmqpPerformative
{
    /// <summary>The peer's channel when answering a begin; absent when initiating.</summary>
    public ushort? RemoteChannel { get; init; }

    public uint NextOutgoingId { get; init; }

    public uint IncomingWindow { get; init; }

    public uint OutgoingWindow { get; init; }

    /// <summary>The highest handle the sender accepts; absent means 4294967295.</summary>
    public uint? HandleMax { get; init; }

    public ReadOnlySpan<byte> OfferedCapabilities { get; init; }

    public ReadOnlySpan<byte> DesiredCapabilities { get; init; }

    public ReadOnlySpan<byte> Properties { get; init; }

    public static AmqpBegin Decode(ReadOnlySpan<byte> body)
    {
        var reader = new AmqpReader(body);
        AmqpBegin begin = Read(ref reader);
        AmqpPerformativeBody.EnsureEnd(reader);
        return begin;
    }

    public static AmqpBegin Read(scoped ref AmqpReader reader)
    {
        AmqpReader f = AmqpPerformativeBody.Start(ref reader, AmqpDescriptor.Begin);
        ushort? remoteChannel = f.ReadUShortOrNull();
        f.RequireField("next-outgoing-id");
        uint nextOutgoingId = f.ReadUInt();
        f.RequireField("incoming-window");
        uint incomingWindow = f.ReadUInt();
        f.RequireField("outgoing-window");
        uint outgoingWindow = f.ReadUInt();
        return new AmqpBegin
        {
            RemoteChannel = remoteChannel,
            NextOutgoingId = nextOutgoingId,
            IncomingWindow = incomingWindow,
            OutgoingWindow = outgoingWindow,
            HandleMax = f.ReadUIntOrNull(),
            OfferedCapabilities = f.ReadMultipleSymbolOrEmpty(),
            DesiredCapabilities = f.ReadMultipleSymbolOrEmpty(),
            Properties = f.ReadMapOrEmpty(),
        };
    }

    public void Encode(ref AmqpWriter writer)
    {
        writer.BeginDescribedList(AmqpDescriptor.Begin);
        writer.WriteUShort(RemoteChannel);
        writer.WriteUInt(NextOutgoingId);
        writer.WriteUInt(IncomingWindow);
        writer.WriteUInt(OutgoingWindow);
        writer.WriteUInt(HandleMax);
        writer.WriteEncoded(OfferedCapabilities);
        writer.WriteEncoded(DesiredCapabilities);
        writer.WriteEncoded(Properties);
        writer.EndList();
    }
}
