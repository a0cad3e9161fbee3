using System.Buffers;

namespace Broker.Protocols.Mqtt.Codec;

/// <summary>Finds whole MQTT frames in a receive buffer without copying them.</summary>
public static class MqttFrameReader
{
    /// <summary>The largest value four remaining-length bytes can carry (§2.2.3).</summary>
    public const int MaxRemainingLength = 268_435_455;

    private const int MaxFixedHeaderLength = 5;

    /// <summary>
    /// Tries to read one frame from the start of <paramref name="buffer"/>.
    /// </summary>
    /// <param name="buffer">The unread part of the receive buffer.</param>
    /// <param name="maxPacketSize">The largest whole frame (fixed header included) accepted.</param>
    /// <param name="frame">The frame, when <see cref="OperationStatus.Done"/>.</param>
    /// <param name="consumed">
    /// The end of the frame when <see cref="OperationStatus.Done"/>, else the start of <paramref name="buffer"/>;
    /// on <see cref="OperationStatus.NeedMoreData"/> the caller marks the whole buffer examined.
    /// </param>
    /// <param name="error">Why the data is invalid, when <see cref="OperationStatus.InvalidData"/>.</param>
    /// <returns>
    /// <see cref="OperationStatus.Done"/>, <see cref="OperationStatus.NeedMoreData"/> or
    /// <see cref="OperationStatus.InvalidData"/>. The header and the declared size are checked as soon as their
    /// bytes arrive, so an oversized or ill-flagged frame fails before its body is buffered.
    /// </returns>
    public static OperationStatus TryReadFrame(
        in ReadOnlySequence<byte> buffer,
        int maxPacketSize,
        out MqttFrame frame,
        out SequencePosition consumed,
        out MqttProtocolError error)
    {
        frame = default;
        consumed = buffer.Start;
        error = MqttProtocolError.None;

        // Fast path: the fixed header sits in the first segment; else gather its (at most 5) bytes.
        ReadOnlySpan<byte> head = buffer.FirstSpan;
        if (head.Length < MaxFixedHeaderLength && !buffer.IsSingleSegment)
        {
            Span<byte> gathered = stackalloc byte[MaxFixedHeaderLength];
            int count = (int)Math.Min(buffer.Length, MaxFixedHeaderLength);
            buffer.Slice(0, count).CopyTo(gathered);
            return TryReadFrameCore(buffer, gathered[..count], maxPacketSize, out frame, out consumed, out error);
        }

        return TryReadFrameCore(buffer, head, maxPacketSize, out frame, out consumed, out error);
    }

    private static OperationStatus TryReadFrameCore(
        in ReadOnlySequence<byte> buffer,
        ReadOnlySpan<byte> head,
        int maxPacketSize,
        out MqttFrame frame,
        out SequencePosition consumed,
        out MqttProtocolError error)
    {
        frame = default;
        consumed = buffer.Start;
        if (head.IsEmpty)
        {
            error = MqttProtocolError.None;
            return OperationStatus.NeedMoreData;
        }

        byte first = head[0];
        var type = (MqttPacketType)(first >> 4);
        byte flags = (byte)(first & 0x0F);
        error = ValidateFixedHeaderFlags(type, flags);
        if (error != MqttProtocolError.None)
        {
            return OperationStatus.InvalidData;
        }

        int remainingLength = 0;
        int index = 1;
        while (true)
        {
            if (index >= head.Length)
            {
                // Later length bytes can only add to what is known, so an oversized frame fails already.
                if ((long)index + 1 + remainingLength > maxPacketSize)
                {
                    error = MqttProtocolError.PacketTooLarge;
                    return OperationStatus.InvalidData;
                }

                return OperationStatus.NeedMoreData;
            }

            byte encoded = head[index];
            remainingLength |= (encoded & 0x7F) << (7 * (index - 1));
            index++;
            if ((encoded & 0x80) == 0)
            {
                break;
            }

            if (index == MaxFixedHeaderLength)
            {
                error = MqttProtocolError.MalformedRemainingLength;
                return OperationStatus.InvalidData;
            }
        }

        long totalLength = (long)index + remainingLength;
        if (totalLength > maxPacketSize)
        {
            error = MqttProtocolError.PacketTooLarge;
            return OperationStatus.InvalidData;
        }

        if (!IsRemainingLengthPlausible(type, remainingLength))
        {
            error = MqttProtocolError.InvalidRemainingLength;
            return OperationStatus.InvalidData;
        }

        if (buffer.Length < totalLength)
        {
            return OperationStatus.NeedMoreData;
        }

        ReadOnlySequence<byte> body = buffer.Slice(index, remainingLength);
        frame = new MqttFrame(type, flags, index, body);
        consumed = body.End;
        return OperationStatus.Done;
    }

    /// <summary>Checks the flag nibble against §2.2.2 for the packet type.</summary>
    internal static MqttProtocolError ValidateFixedHeaderFlags(MqttPacketType type, byte flags)
    {
        switch (type)
        {
            case MqttPacketType.Publish:
                int qos = (flags >> 1) & 0x03;
                if (qos == 3)
                {
                    return MqttProtocolError.InvalidPublishQos;
                }

                // [MQTT-3.3.1-2] DUP must be 0 on QoS 0.
                return qos == 0 && (flags & 0x08) != 0 ? MqttProtocolError.InvalidFixedHeaderFlags : MqttProtocolError.None;
            case MqttPacketType.PubRel:
            case MqttPacketType.Subscribe:
            case MqttPacketType.Unsubscribe:
                return flags == 0x02 ? MqttProtocolError.None : MqttProtocolError.InvalidFixedHeaderFlags;
            case MqttPacketType.Reserved:
            case (MqttPacketType)15:
                return MqttProtocolError.ReservedPacketType;
            default:
                return flags == 0 ? MqttProtocolError.None : MqttProtocolError.InvalidFixedHeaderFlags;
        }
    }

    /// <summary>Rejects, from the declared length alone, packets whose size is fixed or has a floor.</summary>
    private static bool IsRemainingLengthPlausible(MqttPacketType type, int remainingLength) => type switch
    {
        MqttPacketType.ConnAck or MqttPacketType.PubAck or MqttPacketType.PubRec or MqttPacketType.PubRel
            or MqttPacketType.PubComp or MqttPacketType.UnsubAck => remainingLength == 2,
        MqttPacketType.PingReq or MqttPacketType.PingResp or MqttPacketType.Disconnect => remainingLength == 0,
        _ => true,
    };
}
