using System.Buffers;
using System.Buffers.Binary;

namespace Broker.Protocols.Amqp.Codec;

/// <summary>Finds whole AMQP and SASL frames in a receive buffer without copying them (§2.3).</summary>
public static class AmqpFrameReader
{
    /// <summary>The frame header: size (4), data offset (1), type (1), channel (2).</summary>
    public const int HeaderSize = 8;

    /// <summary>MIN-MAX-FRAME-SIZE (§2.7.1): frames up to this size are allowed before open is exchanged.</summary>
    public const uint MinMaxFrameSize = 512;

    /// <summary>
    /// Tries to read one frame from the start of <paramref name="buffer"/>. The size, data offset and type are checked
    /// as soon as the 8 header bytes arrive, so an oversized frame fails before its body is buffered.
    /// </summary>
    /// <param name="buffer">The unread part of the receive buffer.</param>
    /// <param name="maxFrameSize">The largest frame accepted (the max-frame-size this side announced).</param>
    /// <param name="frame">The frame, on <see cref="OperationStatus.Done"/>.</param>
    /// <param name="consumed">The end of the frame on <see cref="OperationStatus.Done"/>, else the start of the buffer.</param>
    /// <param name="error">Why the frame is invalid, on <see cref="OperationStatus.InvalidData"/>.</param>
    public static OperationStatus TryReadFrame(
        in ReadOnlySequence<byte> buffer,
        uint maxFrameSize,
        out AmqpFrame frame,
        out SequencePosition consumed,
        out AmqpDecodeError error)
    {
        frame = default;
        consumed = buffer.Start;
        error = AmqpDecodeError.None;
        if (buffer.Length < HeaderSize)
        {
            return OperationStatus.NeedMoreData;
        }

        Span<byte> gathered = stackalloc byte[HeaderSize];
        ReadOnlySpan<byte> header = buffer.FirstSpan.Length >= HeaderSize ? buffer.FirstSpan[..HeaderSize] : Gather(buffer, gathered);
        uint size = BinaryPrimitives.ReadUInt32BigEndian(header);
        byte dataOffset = header[4];
        byte type = header[5];
        ushort channel = BinaryPrimitives.ReadUInt16BigEndian(header[6..]);
        if (size < HeaderSize)
        {
            error = AmqpDecodeError.FrameSizeTooSmall;
            return OperationStatus.InvalidData;
        }

        if (size > maxFrameSize)
        {
            error = AmqpDecodeError.FrameTooLarge;
            return OperationStatus.InvalidData;
        }

        if (dataOffset < 2 || dataOffset * 4u > size)
        {
            error = AmqpDecodeError.InvalidDataOffset;
            return OperationStatus.InvalidData;
        }

        if (type > (byte)AmqpFrameType.Sasl)
        {
            error = AmqpDecodeError.InvalidFrameType;
            return OperationStatus.InvalidData;
        }

        if (buffer.Length < size)
        {
            return OperationStatus.NeedMoreData;
        }

        ReadOnlySequence<byte> body = buffer.Slice(dataOffset * 4, size - (dataOffset * 4u));
        frame = new AmqpFrame(size, dataOffset, (AmqpFrameType)type, channel, body);
        consumed = body.End;
        return OperationStatus.Done;
    }

    private static ReadOnlySpan<byte> Gather(in ReadOnlySequence<byte> buffer, Span<byte> destination)
    {
        buffer.Slice(0, HeaderSize).CopyTo(destination);
        return destination;
    }
}
