namespace Broker.Protocols.Amqp.Codec;

/// <summary>Helpers shared by the performative decoders.</summary>
public static class AmqpPerformativeBody
{
    /// <summary>
    /// The descriptor of the performative a frame body starts with (symbolic descriptors translated), so a read loop
    /// can dispatch to the right decoder.
    /// </summary>
    public static ulong PeekDescriptor(ReadOnlySpan<byte> body)
    {
        var reader = new AmqpReader(body);
        return reader.ReadDescriptor(out _);
    }

    /// <summary>
    /// Measures the described list a frame body starts with from its first bytes: false when <paramref name="head"/>
    /// is too short to tell (or the bytes are no described list, which the decoder then reports).
    /// </summary>
    public static bool TryMeasure(ReadOnlySpan<byte> head, out int length)
    {
        length = 0;
        if (head.Length < 2 || head[0] != AmqpFormatCode.Described)
        {
            return false;
        }

        int position = 2;
        switch (head[1])
        {
            case AmqpFormatCode.SmallULong:
                position += 1;
                break;
            case AmqpFormatCode.ULong:
                position += 8;
                break;
            case AmqpFormatCode.ULong0:
                break;
            case AmqpFormatCode.Symbol8 when head.Length > 2:
                position += 1 + head[2];
                break;
            case AmqpFormatCode.Symbol32 when head.Length >= 6:
                uint symbolLength = System.Buffers.Binary.BinaryPrimitives.ReadUInt32BigEndian(head[2..]);
                if (symbolLength > int.MaxValue - 16)
                {
                    return false;
                }

                position += 4 + (int)symbolLength;
                break;
            default:
                return false;
        }

        if (head.Length <= position)
        {
            return false;
        }

        switch (head[position])
        {
            case AmqpFormatCode.List0:
                length = position + 1;
                return true;
            case AmqpFormatCode.List8 when head.Length > position + 1:
                length = position + 2 + head[position + 1];
                return true;
            case AmqpFormatCode.List32 when head.Length >= position + 5:
                uint size = System.Buffers.Binary.BinaryPrimitives.ReadUInt32BigEndian(head[(position + 1)..]);
                if (size > int.MaxValue - position - 5)
                {
                    return false;
                }

                length = position + 5 + (int)size;
                return true;
            default:
                return false;
        }
    }

    /// <summary>Starts a performative: checks the descriptor and returns a reader over the list's fields.</summary>
    internal static AmqpReader Start(scoped ref AmqpReader reader, ulong descriptor)
    {
        reader.ReadDescriptor(descriptor);
        return reader.ReadList(out _);
    }

    /// <summary>Checks that nothing follows a performative that carries no payload.</summary>
    internal static void EnsureEnd(in AmqpReader reader)
    {
        if (reader.Position != reader.Buffer.Length)
        {
            AmqpDecodeException.Throw(AmqpDecodeError.TrailingBytes);
        }
    }
}
