namespace Broker.Protocols.Amqp.Codec;

/// <summary>Enumerates the entries of an encoded map (map8/map32) without decoding or allocating.</summary>
public ref struct AmqpMapEnumerator
{
    private AmqpReader _reader;
    private AmqpMapEntry _current;

    internal AmqpMapEnumerator(ReadOnlySpan<byte> encodedMap)
    {
        if (encodedMap.IsEmpty || encodedMap[0] == AmqpFormatCode.Null)
        {
            _reader = default;
            return;
        }

        var reader = new AmqpReader(encodedMap);
        _reader = reader.ReadMap(out _);
    }

    public readonly AmqpMapEntry Current => _current;

    public readonly AmqpMapEnumerator GetEnumerator() => this;

    public bool MoveNext()
    {
        if (_reader.IsAtEnd)
        {
            return false;
        }

        ReadOnlySpan<byte> key = _reader.ReadEncodedValue();
        ReadOnlySpan<byte> value = _reader.ReadEncodedValue();
        _current = new AmqpMapEntry(key, value);
        return true;
    }
}
