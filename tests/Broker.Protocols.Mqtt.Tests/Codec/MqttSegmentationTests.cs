using System.Buffers;
using Broker.Protocols.Mqtt.Codec;
using Broker.Protocols.Mqtt.Tests.Support;

namespace Broker.Protocols.Mqtt.Tests.Codec;

/// <summary>Every packet type must decode the same whatever the segment boundaries of the receive buffer.</summary>
public sealed class MqttSegmentationTests
{
    [Theory]
    [MemberData(nameof(SamplePackets.Names), MemberType = typeof(SamplePackets))]
    public void Reencode_SinglySegmentedSample_ReproducesBytes(string name)
    {
        byte[] bytes = SamplePackets.All[name];

        Assert.Equal(bytes, Reencode(new ReadOnlySequence<byte>(bytes)));
    }

    [Theory]
    [MemberData(nameof(SamplePackets.Names), MemberType = typeof(SamplePackets))]
    public void Reencode_SplitAtEveryByteBoundary_ReproducesBytes(string name)
    {
        byte[] bytes = SamplePackets.All[name];

        foreach (int cut in Cuts(bytes.Length))
        {
            Assert.Equal(bytes, Reencode(Sequences.Split(bytes, cut)));
        }
    }

    [Theory]
    [MemberData(nameof(SamplePackets.SmallNames), MemberType = typeof(SamplePackets))]
    public void Reencode_SplitAtEveryPairOfBoundaries_ReproducesBytes(string name)
    {
        byte[] bytes = SamplePackets.All[name];

        for (int first = 0; first <= bytes.Length; first++)
        {
            for (int second = first; second <= bytes.Length; second++)
            {
                Assert.Equal(bytes, Reencode(Sequences.Split(bytes, first, second)));
            }
        }
    }

    [Theory]
    [MemberData(nameof(SamplePackets.SmallNames), MemberType = typeof(SamplePackets))]
    public void Reencode_OneBytePerSegment_ReproducesBytes(string name)
    {
        byte[] bytes = SamplePackets.All[name];

        Assert.Equal(bytes, Reencode(Sequences.OneBytePerSegment(bytes)));
    }

    [Theory]
    [MemberData(nameof(SamplePackets.Names), MemberType = typeof(SamplePackets))]
    public void TryReadFrame_EveryStrictPrefix_NeedsMoreData(string name)
    {
        byte[] bytes = SamplePackets.All[name];

        foreach (int length in Cuts(bytes.Length))
        {
            ReadOnlySequence<byte> prefix = Sequences.Split(bytes.AsSpan(0, length), length / 2);
            OperationStatus status = MqttFrameReader.TryReadFrame(prefix, int.MaxValue, out _, out SequencePosition consumed, out MqttProtocolError error);
            Assert.Equal(OperationStatus.NeedMoreData, status);
            Assert.Equal(MqttProtocolError.None, error);
            Assert.Equal(prefix.Start, consumed);
        }
    }

    [Fact]
    public void TryReadFrame_AllSamplesBackToBackInSmallSegments_ReadsEveryFrame()
    {
        byte[] stream = SamplePackets.All.Values.SelectMany(bytes => bytes).ToArray();
        int[] cuts = Enumerable.Range(1, (stream.Length - 1) / 13).Select(i => i * 13).ToArray();
        ReadOnlySequence<byte> buffer = Sequences.Split(stream, cuts);
        var output = new ArrayBufferWriter<byte>();

        while (MqttFrameReader.TryReadFrame(buffer, int.MaxValue, out MqttFrame frame, out SequencePosition consumed, out MqttProtocolError error) == OperationStatus.Done)
        {
            Assert.Equal(MqttProtocolError.None, PacketCodec.Reencode(frame, output));
            buffer = buffer.Slice(consumed);
        }

        Assert.True(buffer.IsEmpty);
        Assert.Equal(stream, output.WrittenSpan.ToArray());
    }

    private static IEnumerable<int> Cuts(int length) => Enumerable.Range(1, length - 1);

    private static byte[] Reencode(in ReadOnlySequence<byte> sequence)
    {
        var output = new ArrayBufferWriter<byte>();
        Assert.Equal(MqttProtocolError.None, PacketCodec.Reencode(Frames.Read(sequence), output));
        return output.WrittenSpan.ToArray();
    }
}
