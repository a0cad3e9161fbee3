namespace Broker.Protocols.Amqp.Codec;

/// <summary>Enumerates a "multiple symbol" encoding: nothing (empty or null), one symbol, or an array of symbols.</summary>
public ref struct AmqpSymbolEnumerator
{
    private AmqpReader _reader;
    private ReadOnlySpan<byte> _current;

    internal AmqpSymbolEnumerator(ReadOnlySpan<byte> encodedMultiple)
    {
        _reader = new AmqpReader(encodedMultiple);
        if (!encodedMultiple.IsEmpty && encodedMultiple[0] is AmqpFormatCode.Array8 or AmqpFormatCode.Array32)
        {
            _reader = _reader.ReadArray(out _, out _);
        }
        else if (!encodedMultiple.IsEmpty && encodedMultiple[0] == AmqpFormatCode.Null)
        {
            _reader = default;
        }
    }

    public readonly ReadOnlySpan<byte> Current => _current;

    public readonly AmqpSymbolEnumerator GetEnumerator() => this;

    public bool MoveNext()
    {
        if (_reader.IsAtEnd)
        {
            return false;
        }

        _current = _reader.ReadSymbol();
        return true;
    }
}
