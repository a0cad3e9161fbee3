namespace Broker.Protocols.Amqp.Codec;

/// <summary>Looks inside "multiple symbol" fields (capabilities, SASL mechanisms, outcomes) kept as their encoding.</summary>
public static class AmqpSymbols
{
    /// <summary>Whether <paramref name="encodedMultiple"/> (a symbol, an array of symbols, or empty) holds <paramref name="symbol"/>.</summary>
    public static bool Contains(ReadOnlySpan<byte> encodedMultiple, ReadOnlySpan<byte> symbol)
    {
        foreach (ReadOnlySpan<byte> candidate in Enumerate(encodedMultiple))
        {
            if (candidate.SequenceEqual(symbol))
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>The number of symbols in <paramref name="encodedMultiple"/>.</summary>
    public static int Count(ReadOnlySpan<byte> encodedMultiple)
    {
        int count = 0;
        foreach (ReadOnlySpan<byte> unused in Enumerate(encodedMultiple))
        {
            count++;
        }

        return count;
    }

    /// <summary>Enumerates the symbols of <paramref name="encodedMultiple"/> as slices of it.</summary>
    public static AmqpSymbolEnumerator Enumerate(ReadOnlySpan<byte> encodedMultiple) => new(encodedMultiple);
}
