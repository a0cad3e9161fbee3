using Amqp;
using Amqp.Types;

namespace Broker.Protocols.Amqp.Tests.Support;

/// <summary>The reference implementation (AMQPNetLite) the hand-written codec is checked against.</summary>
internal static class Reference
{
    /// <summary>Encodes a value with AMQPNetLite's encoder (smallest encodings).</summary>
    public static byte[] Encode(object? value)
    {
        var buffer = new ByteBuffer(256, true);
        Encoder.WriteObject(buffer, value, true);
        return Bytes(buffer);
    }

    /// <summary>Encodes a performative, section or composite with AMQPNetLite.</summary>
    public static byte[] Encode(Described described)
    {
        var buffer = new ByteBuffer(256, true);
        described.Encode(buffer);
        return Bytes(buffer);
    }

    /// <summary>Decodes one value with AMQPNetLite's decoder, checking it used every byte.</summary>
    public static object? Decode(byte[] bytes)
    {
        var buffer = new ByteBuffer(bytes, 0, bytes.Length, bytes.Length);
        object? value = Encoder.ReadObject(buffer);
        Assert.Equal(0, buffer.Length);
        return value;
    }

    /// <summary>Decodes a described list of a known type with AMQPNetLite.</summary>
    public static T Decode<T>(byte[] bytes)
        where T : Described, new()
    {
        var buffer = new ByteBuffer(bytes, 0, bytes.Length, bytes.Length);
        var value = new T();
        value.Decode(buffer);
        Assert.Equal(0, buffer.Length);
        return value;
    }

    /// <summary>Encodes a whole message with AMQPNetLite (its transfer payload).</summary>
    public static byte[] Encode(Message message) => Bytes(message.Encode());

    public static Message DecodeMessage(byte[] bytes) => Message.Decode(new ByteBuffer(bytes, 0, bytes.Length, bytes.Length));

    private static byte[] Bytes(ByteBuffer buffer) => buffer.Buffer.AsSpan(buffer.Offset, buffer.Length).ToArray();
}
