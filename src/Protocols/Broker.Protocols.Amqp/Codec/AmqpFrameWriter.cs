using System.Buffers;
using System.Buffers.Binary;

namespace Broker.Protocols.Amqp.Codec;

/// <summary>Writes whole frames (header, performative, payload) into an <see cref="IBufferWriter{T}"/> without allocating.</summary>
public static class AmqpFrameWriter
{
    // Payload larger than this is copied in chunks rather than asking the writer for one contiguous block.
    private const int ChunkSize = 4096;

    /// <summary>Writes an empty frame: the heartbeat (§2.4.5).</summary>
    public static void WriteEmptyFrame(IBufferWriter<byte> output)
    {
        ArgumentNullException.ThrowIfNull(output);
        Span<byte> span = output.GetSpan(AmqpFrameReader.HeaderSize);
        BinaryPrimitives.WriteUInt32BigEndian(span, AmqpFrameReader.HeaderSize);
        span[4] = 2;
        span[5] = (byte)AmqpFrameType.Amqp;
        span[6] = 0;
        span[7] = 0;
        output.Advance(AmqpFrameReader.HeaderSize);
    }

    /// <summary>Writes a frame carrying <paramref name="performative"/> and no payload; returns the frame size.</summary>
    public static int WriteFrame<T>(IBufferWriter<byte> output, AmqpFrameType type, ushort channel, scoped in T performative, int sizeHint = 256)
        where T : IAmqpPerformative, allows ref struct
        => WriteFrame(output, type, channel, performative, ReadOnlySpan<byte>.Empty, sizeHint);

    /// <summary>
    /// Writes a frame carrying <paramref name="performative"/> followed by <paramref name="payload"/> (a transfer's
    /// message bytes); returns the frame size. The caller keeps frames within the peer's max-frame-size.
    /// </summary>
    public static int WriteFrame<T>(IBufferWriter<byte> output, AmqpFrameType type, ushort channel, scoped in T performative, ReadOnlySpan<byte> payload, int sizeHint = 256)
        where T : IAmqpPerformative, allows ref struct
    {
        ArgumentNullException.ThrowIfNull(output);
        var writer = new AmqpWriter(output, sizeHint + (payload.Length <= ChunkSize ? payload.Length : 0));
        int start = writer.BeginRegion();
        WriteHeaderPlaceholder(ref writer);
        performative.Encode(ref writer);
        int size = checked(writer.Position - start + payload.Length);
        Span<byte> frame = writer.EndRegion();
        FillHeader(frame, (uint)size, type, channel);
        if (payload.Length <= ChunkSize)
        {
            // Small payloads go in the same block as the performative.
            payload.CopyTo(writer.Reserve(payload.Length));
            writer.Commit();
            return size;
        }

        writer.Commit();
        WriteChunked(output, payload);
        return size;
    }

    /// <summary>Writes a frame carrying <paramref name="performative"/> and a payload that is a sequence.</summary>
    public static int WriteFrame<T>(IBufferWriter<byte> output, AmqpFrameType type, ushort channel, scoped in T performative, in ReadOnlySequence<byte> payload, int sizeHint = 256)
        where T : IAmqpPerformative, allows ref struct
    {
        if (payload.IsSingleSegment)
        {
            return WriteFrame(output, type, channel, performative, payload.FirstSpan, sizeHint);
        }

        ArgumentNullException.ThrowIfNull(output);
        var writer = new AmqpWriter(output, sizeHint);
        int start = writer.BeginRegion();
        WriteHeaderPlaceholder(ref writer);
        performative.Encode(ref writer);
        int size = checked((int)(writer.Position - start + payload.Length));
        FillHeader(writer.EndRegion(), (uint)size, type, channel);
        writer.Commit();
        foreach (ReadOnlyMemory<byte> segment in payload)
        {
            WriteChunked(output, segment.Span);
        }

        return size;
    }

    private static void WriteHeaderPlaceholder(ref AmqpWriter writer) => writer.Reserve(AmqpFrameReader.HeaderSize);

    private static void FillHeader(Span<byte> frame, uint size, AmqpFrameType type, ushort channel)
    {
        BinaryPrimitives.WriteUInt32BigEndian(frame, size);
        frame[4] = 2;
        frame[5] = (byte)type;
        BinaryPrimitives.WriteUInt16BigEndian(frame[6..], type == AmqpFrameType.Amqp ? channel : (ushort)0);
    }

    private static void WriteChunked(IBufferWriter<byte> output, ReadOnlySpan<byte> data)
    {
        while (!data.IsEmpty)
        {
            Span<byte> span = output.GetSpan(Math.Min(data.Length, ChunkSize));
            int count = Math.Min(span.Length, data.Length);
            data[..count].CopyTo(span);
            output.Advance(count);
            data = data[count..];
        }
    }
}
