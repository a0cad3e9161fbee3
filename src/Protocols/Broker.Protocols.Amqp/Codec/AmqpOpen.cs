namespace Broker.Protocols.Amqp.Codec;

/// <summary>The open performative (§2.7.1). Span fields are slices of the frame body; empty means absent.</summary>
public readonly ref struct AmqpOpen : IAmqpPerformative
{
    /// <summary>The mandatory container id.</summary>
    public ReadOnlySpan<byte> ContainerId { get; init; }

    public ReadOnlySpan<byte> Hostname { get; init; }

    /// <summary>The largest frame the sender accepts; absent means 4294967295.</summary>
    public uint? MaxFrameSize { get; init; }

    /// <summary>The highest channel number the sender accepts; absent means 65535.</summary>
    public ushort? ChannelMax { get; init; }

    /// <summary>The sender's idle timeout in milliseconds; absent or 0 means none.</summary>
    public uint? IdleTimeOut { get; init; }

    /// <summary>Encoded "multiple symbol" (see <see cref="AmqpSymbols"/>).</summary>
    public ReadOnlySpan<byte> OutgoingLocales { get; init; }

    public ReadOnlySpan<byte> IncomingLocales { get; init; }

    public ReadOnlySpan<byte> OfferedCapabilities { get; init; }

    public ReadOnlySpan<byte> DesiredCapabilities { get; init; }

    /// <summary>Encoded properties map (symbol keys), see <see cref="AmqpMap"/>.</summary>
    public ReadOnlySpan<byte> Properties { get; init; }

    /// <summary>Decodes an open frame body.</summary>
    public static AmqpOpen Decode(ReadOnlySpan<byte> body)
    {
        var reader = new AmqpReader(body);
        AmqpOpen open = Read(ref reader);
        AmqpPerformativeBody.EnsureEnd(reader);
        return open;
    }

    public static AmqpOpen Read(scoped ref AmqpReader reader)
    {
        AmqpReader f = AmqpPerformativeBody.Start(ref reader, AmqpDescriptor.Open);
        f.RequireField("container-id");
        return new AmqpOpen
        {
            ContainerId = f.ReadString(),
            Hostname = f.ReadStringOrEmpty(),
            MaxFrameSize = f.ReadUIntOrNull(),
            ChannelMax = f.ReadUShortOrNull(),
            IdleTimeOut = f.ReadUIntOrNull(),
            OutgoingLocales = f.ReadMultipleSymbolOrEmpty(),
            IncomingLocales = f.ReadMultipleSymbolOrEmpty(),
            OfferedCapabilities = f.ReadMultipleSymbolOrEmpty(),
            DesiredCapabilities = f.ReadMultipleSymbolOrEmpty(),
            Properties = f.ReadMapOrEmpty(),
        };
    }

    public void Encode(ref AmqpWriter writer)
    {
        writer.BeginDescribedList(AmqpDescriptor.Open);
        writer.WriteString(ContainerId);
        writer.WriteStringOrNull(Hostname);
        writer.WriteUInt(MaxFrameSize);
        writer.WriteUShort(ChannelMax);
        writer.WriteUInt(IdleTimeOut);
        writer.WriteEncoded(OutgoingLocales);
        writer.WriteEncoded(IncomingLocales);
        writer.WriteEncoded(OfferedCapabilities);
        writer.WriteEncoded(DesiredCapabilities);
        writer.WriteEncoded(Properties);
        writer.EndList();
    }
}
