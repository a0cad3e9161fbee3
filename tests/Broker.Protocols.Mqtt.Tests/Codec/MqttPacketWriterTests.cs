using System.Buffers;
using System.Text;
using Broker.Protocols.Mqtt.Codec;
using Broker.Protocols.Mqtt.Tests.Support;

namespace Broker.Protocols.Mqtt.Tests.Codec;

public sealed class MqttPacketWriterTests
{
    [Fact]
    public void WriteConnect_Minimal_MatchesSpecLayout()
    {
        byte[] bytes = SamplePackets.All["connect-minimal"];

        // 10 11 | 00 04 "MQTT" | 04 | 02 | 00 3C | 00 05 "dev-1"
        Assert.Equal("101100044D5154540402003C00056465762D31", Hex.Format(bytes));
    }

    [Fact]
    public void WriteConnect_Mqtt31_WritesMQIsdpName()
    {
        byte[] bytes = SamplePackets.All["connect-mqisdp"];

        Assert.Equal("00064D5149736470", Hex.Format(bytes.AsSpan(2, 8)));
        Assert.Equal(3, bytes[10]);
    }

    [Fact]
    public void WriteSubscribe_Single_MatchesSpecLayout()
    {
        byte[] bytes = Frames.Write(w => MqttPacketWriter.WriteSubscribe(w, 10, "a/b"u8, MqttQualityOfService.AtLeastOnce));

        Assert.Equal("8208000A0003612F6201", Hex.Format(bytes));
    }

    [Fact]
    public void WriteUnsubscribe_Single_MatchesSpecLayout()
    {
        byte[] bytes = Frames.Write(w => MqttPacketWriter.WriteUnsubscribe(w, 10, "a/b"u8));

        Assert.Equal("A207000A0003612F62", Hex.Format(bytes));
    }

    [Fact]
    public void WritePublish_Qos0_HasNoPacketId()
    {
        byte[] bytes = Frames.Write(w => MqttPacketWriter.WritePublish(w, "a/b"u8, 0, MqttQualityOfService.AtMostOnce, true, false, "hi"u8));

        Assert.Equal("31070003612F626869", Hex.Format(bytes));
    }

    [Fact]
    public void WritePublish_Qos2Dup_SetsHeaderBits()
    {
        byte[] bytes = Frames.Write(w => MqttPacketWriter.WritePublish(w, "a"u8, 0x0102, MqttQualityOfService.ExactlyOnce, false, true, ReadOnlySpan<byte>.Empty));

        Assert.Equal("3C050001610102", Hex.Format(bytes));
    }

    [Theory]
    [InlineData(127, 1)]
    [InlineData(128, 2)]
    [InlineData(16_383, 2)]
    [InlineData(16_384, 3)]
    [InlineData(2_097_151, 3)]
    [InlineData(2_097_152, 4)]
    public void WritePublish_RemainingLengthBoundary_UsesMinimalEncoding(int remainingLength, int lengthBytes)
    {
        // Topic "a" (3 bytes with its length prefix) at QoS 0, the rest payload.
        byte[] payload = new byte[remainingLength - 3];

        byte[] bytes = Frames.Write(w => MqttPacketWriter.WritePublish(w, "a"u8, 0, MqttQualityOfService.AtMostOnce, false, false, payload));

        Assert.Equal(lengthBytes, MqttPacketWriter.GetVariableByteIntegerSize(remainingLength));
        Assert.Equal(1 + lengthBytes + remainingLength, bytes.Length);
        MqttFrame frame = Frames.Read(bytes);
        Assert.Equal(remainingLength, frame.RemainingLength);
        Assert.Equal(1 + lengthBytes, frame.HeaderLength);
    }

    [Fact]
    public void WritePublish_ComposedTopic_EqualsSingleSpanTopic()
    {
        byte[] payload = SamplePackets.Payload(50);
        byte[] single = Frames.Write(w => MqttPacketWriter.WritePublish(w, "devices/dev-1/messages/devicebound/%24.to=x"u8, 3, MqttQualityOfService.AtLeastOnce, false, false, payload));

        byte[] composed = Frames.Write(w => MqttPacketWriter.WritePublish(
            w,
            new MqttComposedTopic("devices/"u8, "dev-1"u8, "/messages/devicebound/"u8, "%24.to=x"u8),
            3,
            MqttQualityOfService.AtLeastOnce,
            false,
            false,
            payload));

        Assert.Equal(single, composed);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(100)]
    [InlineData(4_000)]
    [InlineData(70_000)]
    public void WritePublish_SequencePayload_EqualsSpanPayload(int payloadLength)
    {
        byte[] payload = SamplePackets.Payload(payloadLength);
        byte[] fromSpan = Frames.Write(w => MqttPacketWriter.WritePublish(w, "t"u8, 1, MqttQualityOfService.AtLeastOnce, false, false, payload));
        int[] cuts = payloadLength == 0 ? [] : [payloadLength / 3, payloadLength / 2];

        byte[] fromSequence = Frames.Write(w => MqttPacketWriter.WritePublish(w, "t"u8, 1, MqttQualityOfService.AtLeastOnce, false, false, Sequences.Split(payload, cuts)));

        Assert.Equal(fromSpan, fromSequence);
    }

    [Theory]
    [InlineData(10)]
    [InlineData(5_000)]
    [InlineData(100_000)]
    public void WritePublish_SmallSpanWriter_ChunksPayloadAndStaysParsable(int payloadLength)
    {
        byte[] payload = SamplePackets.Payload(payloadLength);
        var writer = new ChunkingBufferWriter(chunkSize: 7);

        MqttPacketWriter.WritePublish(writer, "t/x"u8, 9, MqttQualityOfService.AtLeastOnce, false, false, payload);

        Assert.All(writer.Chunks.Skip(1), chunk => Assert.InRange(chunk.Length, 1, 4096));
        MqttFrame frame = Frames.Read(Sequences.FromChunks(writer.Chunks));
        Assert.True(MqttPublishPacket.TryDecode(frame, out MqttPublishPacket packet, out _));
        Assert.Equal(payload, packet.Payload.ToArray());
    }

    [Fact]
    public void WriteSubscribe_Multiple_RoundTrips()
    {
        MqttSubscriptionRequest[] requests =
        [
            new("a/#"u8.ToArray(), MqttQualityOfService.AtMostOnce),
            new("b/+"u8.ToArray(), MqttQualityOfService.ExactlyOnce),
        ];

        byte[] bytes = Frames.Write(w => MqttPacketWriter.WriteSubscribe(w, 4, requests));

        Assert.Equal("820E00040003612F23000003622F2B02", Hex.Format(bytes));
    }

    [Fact]
    public void Writers_InvalidArguments_Throw()
    {
        var writer = new ArrayBufferWriter<byte>();

        Assert.Throws<ArgumentException>(() => MqttPacketWriter.WritePublish(writer, "t"u8, 1, MqttQualityOfService.AtMostOnce, false, false, ReadOnlySpan<byte>.Empty));
        Assert.Throws<ArgumentException>(() => MqttPacketWriter.WritePublish(writer, "t"u8, 0, MqttQualityOfService.AtMostOnce, false, true, ReadOnlySpan<byte>.Empty));
        Assert.Throws<ArgumentOutOfRangeException>(() => MqttPacketWriter.WritePublish(writer, "t"u8, 0, MqttQualityOfService.AtLeastOnce, false, false, ReadOnlySpan<byte>.Empty));
        Assert.Throws<ArgumentOutOfRangeException>(() => MqttPacketWriter.WritePublish(writer, "t"u8, 1, (MqttQualityOfService)3, false, false, ReadOnlySpan<byte>.Empty));
        Assert.Throws<ArgumentOutOfRangeException>(() => MqttPacketWriter.WritePublish(writer, ReadOnlySpan<byte>.Empty, 0, MqttQualityOfService.AtMostOnce, false, false, ReadOnlySpan<byte>.Empty));
        Assert.Throws<ArgumentOutOfRangeException>(() => MqttPacketWriter.WritePublish(writer, new byte[65_536], 0, MqttQualityOfService.AtMostOnce, false, false, ReadOnlySpan<byte>.Empty));
        Assert.Throws<ArgumentException>(() => MqttPacketWriter.WriteConnAck(writer, true, MqttConnectReturnCode.NotAuthorized));
        Assert.Throws<ArgumentOutOfRangeException>(() => MqttPacketWriter.WritePubAck(writer, 0));
        Assert.Throws<ArgumentException>(() => MqttPacketWriter.WriteSubAck(writer, 1, ReadOnlySpan<MqttSubscribeReturnCode>.Empty));
        Assert.Throws<ArgumentOutOfRangeException>(() => MqttPacketWriter.WriteSubAck(writer, 1, [(MqttSubscribeReturnCode)3]));
        Assert.Throws<ArgumentOutOfRangeException>(() => MqttPacketWriter.WriteSubscribe(writer, 0, "a"u8, MqttQualityOfService.AtMostOnce));
        Assert.Throws<ArgumentOutOfRangeException>(() => MqttPacketWriter.WriteUnsubscribe(writer, 1, new byte[65_536]));
        Assert.Equal(0, writer.WrittenCount);
    }

    [Fact]
    public void WritePublish_Topic_IsWrittenVerbatim()
    {
        byte[] topic = Encoding.UTF8.GetBytes(SamplePackets.IotHubTelemetryTopic);

        byte[] bytes = Frames.Write(w => MqttPacketWriter.WritePublish(w, topic, 1, MqttQualityOfService.AtLeastOnce, false, false, "x"u8));

        Assert.Equal(topic, bytes.AsSpan(4, topic.Length).ToArray());
    }
}
