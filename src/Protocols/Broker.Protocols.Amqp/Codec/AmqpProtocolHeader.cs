using System.Buffers;

namespace Broker.Protocols.Amqp.Codec;

/// <summary>Reads and writes the 8-byte protocol header <c>AMQP id 1 0 0</c> (§2.2).</summary>
public static class AmqpProtocolHeader
{
    /// <summary>The header's size.</summary>
    public const int Size = 8;

    /// <summary>The plain AMQP header.</summary>
    public static ReadOnlySpan<byte> Amqp => "AMQP\0\u0001\0\0"u8;

    /// <summary>The SASL header.</summary>
    public static ReadOnlySpan<byte> Sasl => "AMQP\u0003\u0001\0\0"u8;

    /// <summary>The TLS header.</summary>
    public static ReadOnlySpan<byte> Tls => "AMQP\u0002\u0001\0\0"u8;

    /// <summary>
    /// Tries to read a protocol header. A mismatch is reported as soon as a wrong byte arrives; the peer should then
    /// be sent the header this side supports and the connection closed (§2.2).
    /// </summary>
    public static OperationStatus TryRead(in ReadOnlySequence<byte> buffer, out AmqpProtocolId id, out SequencePosition consumed)
    {
        id = default;
        consumed = buffer.Start;
        Span<byte> header = stackalloc byte[Size];
        int available = (int)Math.Min(buffer.Length, Size);
        buffer.Slice(0, available).CopyTo(header);
        ReadOnlySpan<byte> expected = Amqp;
        for (int i = 0; i < available; i++)
        {
            if (i == 4)
            {
                if (header[4] is not ((byte)AmqpProtocolId.Amqp or (byte)AmqpProtocolId.Tls or (byte)AmqpProtocolId.Sasl))
                {
                    return OperationStatus.InvalidData;
                }
            }
            else if (header[i] != expected[i])
            {
                return OperationStatus.InvalidData;
            }
        }

        if (available < Size)
        {
            return OperationStatus.NeedMoreData;
        }

        id = (AmqpProtocolId)header[4];
        consumed = buffer.GetPosition(Size);
        return OperationStatus.Done;
    }

    /// <summary>Writes the header for <paramref name="id"/>.</summary>
    public static void Write(IBufferWriter<byte> output, AmqpProtocolId id)
    {
        ArgumentNullException.ThrowIfNull(output);
        Span<byte> span = output.GetSpan(Size);
        Amqp.CopyTo(span);
        span[4] = (byte)id;
        output.Advance(Size);
    }
}
