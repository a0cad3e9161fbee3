namespace Broker.Protocols.Amqp.Codec;

/// <summary>The properties section (§3.2.4). Ids are kept as their encodings, typed by <see cref="AmqpMessageId"/>.</summary>
public readonly ref struct AmqpProperties
{
    /// <summary>The message-id's encoding (ulong, uuid, binary or string), or empty.</summary>
    public ReadOnlySpan<byte> MessageId { get; init; }

    public ReadOnlySpan<byte> UserId { get; init; }

    public ReadOnlySpan<byte> To { get; init; }

    public ReadOnlySpan<byte> Subject { get; init; }

    public ReadOnlySpan<byte> ReplyTo { get; init; }

    /// <summary>The correlation-id's encoding (ulong, uuid, binary or string), or empty.</summary>
    public ReadOnlySpan<byte> CorrelationId { get; init; }

    public ReadOnlySpan<byte> ContentType { get; init; }

    public ReadOnlySpan<byte> ContentEncoding { get; init; }

    /// <summary>Milliseconds since the Unix epoch.</summary>
    public long? AbsoluteExpiryTime { get; init; }

    /// <summary>Milliseconds since the Unix epoch.</summary>
    public long? CreationTime { get; init; }

    public ReadOnlySpan<byte> GroupId { get; init; }

    public uint? GroupSequence { get; init; }

    public ReadOnlySpan<byte> ReplyToGroupId { get; init; }

    /// <summary>Decodes a whole properties section (descriptor included, as <see cref="AmqpSection.Encoded"/>).</summary>
    public static AmqpProperties Decode(ReadOnlySpan<byte> section)
    {
        var reader = new AmqpReader(section);
        AmqpReader f = AmqpPerformativeBody.Start(ref reader, AmqpDescriptor.Properties);
        ReadOnlySpan<byte> messageId = ReadId(ref f);
        return new AmqpProperties
        {
            MessageId = messageId,
            UserId = f.ReadBinaryOrEmpty(),
            To = f.ReadStringOrEmpty(),
            Subject = f.ReadStringOrEmpty(),
            ReplyTo = f.ReadStringOrEmpty(),
            CorrelationId = ReadId(ref f),
            ContentType = f.ReadSymbolOrEmpty(),
            ContentEncoding = f.ReadSymbolOrEmpty(),
            AbsoluteExpiryTime = f.ReadTimestampOrNull(),
            CreationTime = f.ReadTimestampOrNull(),
            GroupId = f.ReadStringOrEmpty(),
            GroupSequence = f.ReadUIntOrNull(),
            ReplyToGroupId = f.ReadStringOrEmpty(),
        };
    }

    public void Write(ref AmqpWriter writer)
    {
        writer.BeginDescribedList(AmqpDescriptor.Properties);
        writer.WriteEncoded(MessageId);
        writer.WriteBinaryOrNull(UserId);
        writer.WriteStringOrNull(To);
        writer.WriteStringOrNull(Subject);
        writer.WriteStringOrNull(ReplyTo);
        writer.WriteEncoded(CorrelationId);
        writer.WriteSymbolOrNull(ContentType);
        writer.WriteSymbolOrNull(ContentEncoding);
        writer.WriteTimestamp(AbsoluteExpiryTime);
        writer.WriteTimestamp(CreationTime);
        writer.WriteStringOrNull(GroupId);
        writer.WriteUInt(GroupSequence);
        writer.WriteStringOrNull(ReplyToGroupId);
        writer.EndList();
    }

    private static ReadOnlySpan<byte> ReadId(scoped ref AmqpReader reader)
    {
        ReadOnlySpan<byte> encoded = reader.ReadEncodedValueOrEmpty();
        AmqpMessageId.From(encoded); // checks the type
        return encoded;
    }
}
