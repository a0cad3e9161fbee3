using System.Buffers;

namespace Broker.Protocols.Amqp.Codec;

/// <summary>
/// One whole frame found by <see cref="AmqpFrameReader"/>: the validated header and the body (performative plus, for
/// a transfer, payload) as a slice of the receive buffer. Only valid until the buffer is advanced.
/// </summary>
public readonly struct AmqpFrame
{
    internal AmqpFrame(uint size, byte dataOffset, AmqpFrameType type, ushort channel, in ReadOnlySequence<byte> body)
    {
        Size = size;
        DataOffset = dataOffset;
        Type = type;
        Channel = channel;
        Body = body;
    }

    /// <summary>The frame size from the header: header, extended header and body.</summary>
    public uint Size { get; }

    /// <summary>The data offset in 4-byte words (2 without an extended header).</summary>
    public byte DataOffset { get; }

    /// <summary>AMQP or SASL.</summary>
    public AmqpFrameType Type { get; }

    /// <summary>The channel (meaningful for AMQP frames only).</summary>
    public ushort Channel { get; }

    /// <summary>The frame body, after any extended header.</summary>
    public ReadOnlySequence<byte> Body { get; }

    /// <summary>An empty frame: a heartbeat (§2.4.5).</summary>
    public bool IsEmpty => Body.IsEmpty;
}
