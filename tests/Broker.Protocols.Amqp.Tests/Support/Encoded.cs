using System.Buffers;
using Broker.Protocols.Amqp.Codec;

namespace Broker.Protocols.Amqp.Tests.Support;

/// <summary>Runs an <see cref="AmqpWriter"/> into a fresh array.</summary>
internal static class Encoded
{
    public delegate void Write(ref AmqpWriter writer);

    public static byte[] With(Write write)
    {
        var output = new ArrayBufferWriter<byte>();
        var writer = new AmqpWriter(output, 16);
        write(ref writer);
        writer.Commit();
        return output.WrittenSpan.ToArray();
    }

    public static byte[] Performative<T>(in T performative)
        where T : IAmqpPerformative, allows ref struct
    {
        var output = new ArrayBufferWriter<byte>();
        var writer = new AmqpWriter(output, 16);
        performative.Encode(ref writer);
        writer.Commit();
        return output.WrittenSpan.ToArray();
    }

    public static byte[] Frame<T>(in T performative, ushort channel = 0, AmqpFrameType type = AmqpFrameType.Amqp, byte[]? payload = null)
        where T : IAmqpPerformative, allows ref struct
    {
        var output = new ArrayBufferWriter<byte>();
        AmqpFrameWriter.WriteFrame(output, type, channel, performative, payload ?? []);
        return output.WrittenSpan.ToArray();
    }
}
