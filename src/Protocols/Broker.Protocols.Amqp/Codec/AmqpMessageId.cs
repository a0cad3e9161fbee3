namespace Broker.Protocols.Amqp.Codec;

/// <summary>
/// A message-id or correlation-id viewed over its encoding, so that it can be echoed with its original AMQP type
/// (IoT Hub clients match correlation ids by type as well as value).
/// </summary>
public readonly ref struct AmqpMessageId
{
    private AmqpMessageId(ReadOnlySpan<byte> encoded, AmqpMessageIdKind kind)
    {
        Encoded = encoded;
        Kind = kind;
    }

    /// <summary>The id's encoding; empty when there is none.</summary>
    public ReadOnlySpan<byte> Encoded { get; }

    public AmqpMessageIdKind Kind { get; }

    /// <summary>Views an encoded id; throws <see cref="AmqpDecodeException"/> for a type ids may not have.</summary>
    public static AmqpMessageId From(ReadOnlySpan<byte> encoded)
    {
        if (encoded.IsEmpty || encoded[0] == AmqpFormatCode.Null)
        {
            return default;
        }

        AmqpMessageIdKind kind = encoded[0] switch
        {
            AmqpFormatCode.ULong or AmqpFormatCode.SmallULong or AmqpFormatCode.ULong0 => AmqpMessageIdKind.ULong,
            AmqpFormatCode.Uuid => AmqpMessageIdKind.Uuid,
            AmqpFormatCode.Binary8 or AmqpFormatCode.Binary32 => AmqpMessageIdKind.Binary,
            AmqpFormatCode.String8 or AmqpFormatCode.String32 => AmqpMessageIdKind.String,
            _ => AmqpMessageIdKind.None,
        };
        if (kind == AmqpMessageIdKind.None)
        {
            AmqpDecodeException.Throw(AmqpDecodeError.UnexpectedType, "message id");
        }

        return new AmqpMessageId(encoded, kind);
    }

    public ulong GetULong() => new AmqpReader(Encoded).ReadULong();

    public Guid GetUuid() => new AmqpReader(Encoded).ReadUuid();

    /// <summary>The bytes of a binary id or the UTF-8 of a string id.</summary>
    public ReadOnlySpan<byte> GetBytes()
    {
        var reader = new AmqpReader(Encoded);
        return Kind == AmqpMessageIdKind.Binary ? reader.ReadBinary() : reader.ReadString();
    }

    /// <summary>The id as text for logs and cold paths (uuid in "D" format, binary in hex).</summary>
    public override string ToString() => Kind switch
    {
        AmqpMessageIdKind.ULong => GetULong().ToString(System.Globalization.CultureInfo.InvariantCulture),
        AmqpMessageIdKind.Uuid => GetUuid().ToString(),
        AmqpMessageIdKind.Binary => Convert.ToHexString(GetBytes()),
        AmqpMessageIdKind.String => System.Text.Encoding.UTF8.GetString(GetBytes()),
        _ => string.Empty,
    };
}
