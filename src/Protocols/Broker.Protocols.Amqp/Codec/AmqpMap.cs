namespace Broker.Protocols.Amqp.Codec;

/// <summary>Reads encoded maps (attach properties, annotations, application properties) in place.</summary>
public static class AmqpMap
{
    /// <summary>Enumerates the entries of <paramref name="encodedMap"/> (a map, null or empty).</summary>
    public static AmqpMapEnumerator Enumerate(ReadOnlySpan<byte> encodedMap) => new(encodedMap);

    /// <summary>Finds the value whose symbol or string key is <paramref name="key"/>.</summary>
    public static bool TryGetValue(ReadOnlySpan<byte> encodedMap, ReadOnlySpan<byte> key, out ReadOnlySpan<byte> encodedValue)
    {
        foreach (AmqpMapEntry entry in Enumerate(encodedMap))
        {
            if (entry.KeyEquals(key))
            {
                encodedValue = entry.Value;
                return true;
            }
        }

        encodedValue = default;
        return false;
    }

    /// <summary>The text of an encoded string or symbol; an empty span for any other value.</summary>
    public static ReadOnlySpan<byte> GetText(ReadOnlySpan<byte> encoded)
    {
        if (encoded.IsEmpty)
        {
            return default;
        }

        switch (encoded[0])
        {
            case AmqpFormatCode.String8 or AmqpFormatCode.Symbol8:
            case AmqpFormatCode.String32 or AmqpFormatCode.Symbol32:
                var reader = new AmqpReader(encoded);
                return encoded[0] is AmqpFormatCode.String8 or AmqpFormatCode.String32 ? reader.ReadString() : reader.ReadSymbol();
            default:
                return default;
        }
    }

    internal static bool TextEquals(ReadOnlySpan<byte> encoded, ReadOnlySpan<byte> text)
    {
        // Fast path for the 8-bit forms every short key uses.
        if (encoded.Length == text.Length + 2 && encoded[0] is AmqpFormatCode.String8 or AmqpFormatCode.Symbol8)
        {
            return encoded[1] == text.Length && encoded[2..].SequenceEqual(text);
        }

        return encoded.Length > text.Length + 2 && encoded[0] is AmqpFormatCode.String32 or AmqpFormatCode.Symbol32 && GetText(encoded).SequenceEqual(text);
    }
}
