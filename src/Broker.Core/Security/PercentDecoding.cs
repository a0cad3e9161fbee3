namespace Broker.Core.Security;

/// <summary>
/// Percent-decoding of token fields into caller buffers. Only <c>%XX</c> escapes are decoded and <c>+</c> stays
/// <c>+</c>: ids, host names and base64 never contain spaces, but ids and base64 do contain <c>+</c>. Escapes of
/// non-ASCII bytes are refused, since nothing they could spell can match an id, a host or base64.
/// </summary>
internal static class PercentDecoding
{
    /// <summary>Decodes <paramref name="source"/> into <paramref name="destination"/> (at least as long); false on a non-ASCII escape.</summary>
    public static bool TryDecode(ReadOnlySpan<char> source, Span<char> destination, out int written)
    {
        written = 0;
        for (int i = 0; i < source.Length; i++)
        {
            char c = source[i];
            if (c == '%' && i + 2 < source.Length && TryHex(source[i + 1], out int high) && TryHex(source[i + 2], out int low))
            {
                int value = (high << 4) | low;
                if (value >= 0x80)
                {
                    return false;
                }

                destination[written++] = (char)value;
                i += 2;
            }
            else
            {
                // A '%' that starts no valid escape is kept, as WebUtility.UrlDecode does.
                destination[written++] = c;
            }
        }

        return true;
    }

    private static bool TryHex(char c, out int value)
    {
        value = c switch
        {
            >= '0' and <= '9' => c - '0',
            >= 'a' and <= 'f' => c - 'a' + 10,
            >= 'A' and <= 'F' => c - 'A' + 10,
            _ => -1,
        };
        return value >= 0;
    }
}
