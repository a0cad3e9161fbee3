using System.Buffers;
using Broker.Protocols.Mqtt.Codec;

namespace Broker.Protocols.Mqtt.Tests.Support;

internal static class Frames
{
    /// <summary>Runs a writer into a fresh buffer and returns the bytes.</summary>
    public static byte[] Write(Action<IBufferWriter<byte>> write)
    {
        var writer = new ArrayBufferWriter<byte>();
        write(writer);
        return writer.WrittenSpan.ToArray();
    }

    /// <summary>Builds a frame from a first byte and a body, with a minimal remaining length.</summary>
    public static byte[] Build(int firstByte, string bodyHex) => Build(firstByte, Hex.Parse(bodyHex));

    public static byte[] Build(int firstByte, ReadOnlySpan<byte> body)
    {
        var bytes = new List<byte> { (byte)firstByte };
        int value = body.Length;
        do
        {
            byte encoded = (byte)(value & 0x7F);
            value >>= 7;
            bytes.Add(value > 0 ? (byte)(encoded | 0x80) : encoded);
        }
        while (value > 0);
        bytes.AddRange(body.ToArray());
        return [.. bytes];
    }

    /// <summary>Reads the single frame <paramref name="bytes"/> must contain.</summary>
    public static MqttFrame Read(byte[] bytes) => Read(new ReadOnlySequence<byte>(bytes));

    public static MqttFrame Read(in ReadOnlySequence<byte> sequence)
    {
        OperationStatus status = MqttFrameReader.TryReadFrame(sequence, int.MaxValue, out MqttFrame frame, out SequencePosition consumed, out MqttProtocolError error);
        Assert.Equal(MqttProtocolError.None, error);
        Assert.Equal(OperationStatus.Done, status);
        Assert.Equal(sequence.End, consumed);
        return frame;
    }
}
