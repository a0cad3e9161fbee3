namespace Broker.Protocols.Amqp.Codec;

/// <summary>One key/value pair of an encoded map; both are whole encodings (constructor included).</summary>
public readonly ref struct AmqpMapEntry
{
    internal AmqpMapEntry(ReadOnlySpan<byte> key, ReadOnlySpan<byte> value)
    {
        Key = key;
        Value = value;
    }

    /// <summary>The key's encoding.</summary>
    public ReadOnlySpan<byte> Key { get; }

    /// <summary>The value's encoding.</summary>
    public ReadOnlySpan<byte> Value { get; }

    /// <summary>Whether the key is the symbol or string <paramref name="name"/> (maps keyed by either).</summary>
    public bool KeyEquals(ReadOnlySpan<byte> name) => AmqpMap.TextEquals(Key, name);

    /// <summary>The key's text when it is a string or symbol; otherwise an empty span.</summary>
    public ReadOnlySpan<byte> KeyText => AmqpMap.GetText(Key);
}
