using System.Buffers;

namespace Broker.Protocols.Mqtt.Codec;

/// <summary>Reads MQTT fields from a packet body; every method reports truncation instead of throwing.</summary>
internal ref struct MqttBodyReader
{
    private SequenceReader<byte> _reader;

    public MqttBodyReader(scoped in ReadOnlySequence<byte> body) => _reader = new SequenceReader<byte>(body);

    /// <summary>
    /// The prologue shared by SUBSCRIBE, UNSUBSCRIBE and SUBACK: the expected packet type, its fixed-header flags and
    /// a non-zero packet identifier; on success the reader stands after the identifier.
    /// </summary>
    public static bool TryStart(in MqttFrame frame, MqttPacketType expected, out MqttBodyReader reader, out ushort packetId, out MqttProtocolError error)
    {
        reader = new MqttBodyReader(frame.Body);
        packetId = 0;
        if (frame.Type != expected)
        {
            error = MqttProtocolError.UnexpectedPacketType;
            return false;
        }

        error = MqttFrameReader.ValidateFixedHeaderFlags(frame.Type, frame.Flags);
        if (error != MqttProtocolError.None)
        {
            return false;
        }

        if (!reader.TryReadUInt16(out packetId))
        {
            error = MqttProtocolError.TruncatedPacket;
            return false;
        }

        if (packetId == 0)
        {
            error = MqttProtocolError.ZeroPacketIdentifier;
            return false;
        }

        return true;
    }

    public readonly long Remaining => _reader.Remaining;

    public readonly bool End => _reader.End;

    public bool TryReadByte(out byte value) => _reader.TryRead(out value);

    public bool TryReadUInt16(out ushort value)
    {
        if (_reader.TryReadBigEndian(out short signed))
        {
            value = (ushort)signed;
            return true;
        }

        value = 0;
        return false;
    }

    /// <summary>Reads a two-byte length and that many bytes, as a slice of the body.</summary>
    public bool TryReadLengthPrefixed(out ReadOnlySequence<byte> value)
    {
        if (!TryReadUInt16(out ushort length) || _reader.Remaining < length)
        {
            value = default;
            return false;
        }

        value = _reader.Sequence.Slice(_reader.Position, length);
        _reader.Advance(length);
        return true;
    }

    public ReadOnlySequence<byte> ReadToEnd()
    {
        ReadOnlySequence<byte> rest = _reader.UnreadSequence;
        _reader.AdvanceToEnd();
        return rest;
    }
}
