namespace Broker.Protocols.Amqp.Codec;

/// <summary>One message section found by <see cref="AmqpMessageReader"/>, as slices of the message bytes.</summary>
public readonly ref struct AmqpSection
{
    internal AmqpSection(AmqpSectionKind kind, int offset, ReadOnlySpan<byte> encoded, ReadOnlySpan<byte> value, ReadOnlySpan<byte> data)
    {
        Kind = kind;
        Offset = offset;
        Encoded = encoded;
        Value = value;
        Data = data;
    }

    public AmqpSectionKind Kind { get; }

    /// <summary>Where the section starts in the message bytes.</summary>
    public int Offset { get; }

    /// <summary>The whole section, descriptor included (what the typed section decoders read).</summary>
    public ReadOnlySpan<byte> Encoded { get; }

    /// <summary>The described value's encoding (a list, a map, a binary or, for amqp-value, anything).</summary>
    public ReadOnlySpan<byte> Value { get; }

    /// <summary>For a data section, its bytes; otherwise empty.</summary>
    public ReadOnlySpan<byte> Data { get; }
}
