namespace Broker.Protocols.Amqp.Codec;

/// <summary>
/// Walks the sections of an encoded message (a transfer payload, or one message of a batch) in place: each section is
/// returned as slices, nothing is decoded that the caller does not ask for, nothing is allocated. Sections out of
/// order, repeated, or a body mixing kinds are rejected (§3.2).
/// </summary>
public ref struct AmqpMessageReader
{
    private AmqpReader _reader;
    private int _lastKind;
    private int _bodyKind;

    public AmqpMessageReader(ReadOnlySpan<byte> message)
    {
        _reader = new AmqpReader(message);
        _lastKind = -1;
        _bodyKind = -1;
    }

    /// <summary>Reads the next section; false at the end of the message.</summary>
    public bool TryReadSection(out AmqpSection section)
    {
        if (_reader.Position >= _reader.Buffer.Length)
        {
            section = default;
            return false;
        }

        int start = _reader.Position;
        ulong descriptor = _reader.ReadDescriptor(out _);
        if (descriptor is < AmqpDescriptor.Header or > AmqpDescriptor.Footer)
        {
            AmqpDecodeException.Throw(AmqpDecodeError.UnexpectedDescriptor, "message section");
        }

        var kind = (AmqpSectionKind)(descriptor - AmqpDescriptor.Header);
        CheckOrder(kind);
        int valueStart = _reader.Position;
        ReadOnlySpan<byte> data = default;
        switch (kind)
        {
            case AmqpSectionKind.Header or AmqpSectionKind.Properties or AmqpSectionKind.AmqpSequence:
                _reader.ReadList(out _);
                break;
            case AmqpSectionKind.DeliveryAnnotations or AmqpSectionKind.MessageAnnotations
                or AmqpSectionKind.ApplicationProperties or AmqpSectionKind.Footer:
                if (_reader.PeekFormatCode() == AmqpFormatCode.Null)
                {
                    _reader.SkipValue();
                }
                else
                {
                    _reader.ReadMap(out _);
                }

                break;
            case AmqpSectionKind.Data:
                data = _reader.ReadBinary();
                break;
            default:
                _reader.SkipValue();
                break;
        }

        ReadOnlySpan<byte> buffer = _reader.Buffer;
        section = new AmqpSection(kind, start, buffer[start.._reader.Position], buffer[valueStart.._reader.Position], data);
        return true;
    }

    private void CheckOrder(AmqpSectionKind kind)
    {
        int k = (int)kind;
        bool isBody = kind is AmqpSectionKind.Data or AmqpSectionKind.AmqpSequence or AmqpSectionKind.AmqpValue;
        if (isBody)
        {
            // A body is data+, amqp-sequence+ or one amqp-value, after the bare sections and before the footer.
            if (_lastKind > (int)AmqpSectionKind.AmqpValue
                || (_bodyKind >= 0 && (_bodyKind != k || kind == AmqpSectionKind.AmqpValue)))
            {
                AmqpDecodeException.Throw(AmqpDecodeError.InvalidField, "message body sections");
            }

            _bodyKind = k;
        }
        else if (k <= _lastKind)
        {
            AmqpDecodeException.Throw(AmqpDecodeError.InvalidField, "message section order");
        }

        _lastKind = Math.Max(_lastKind, isBody ? (int)AmqpSectionKind.Data : k);
    }
}
