using System.Buffers;
using System.Text;
using Broker.Protocols.Mqtt.Codec;
using Broker.Protocols.Mqtt.Tests.Support;

namespace Broker.Protocols.Mqtt.Tests.Codec;

public sealed class MqttPublishPacketTests
{
    [Theory]
    [InlineData(MqttQualityOfService.AtMostOnce, (ushort)0, false, false)]
    [InlineData(MqttQualityOfService.AtMostOnce, (ushort)0, true, false)]
    [InlineData(MqttQualityOfService.AtLeastOnce, (ushort)1, false, true)]
    [InlineData(MqttQualityOfService.AtLeastOnce, (ushort)65535, true, false)]
    [InlineData(MqttQualityOfService.ExactlyOnce, (ushort)300, true, true)]
    public void WritePublish_ThenTryDecode_RoundTripsEveryField(MqttQualityOfService qos, ushort packetId, bool retain, bool dup)
    {
        byte[] payload = SamplePackets.Payload(256);
        byte[] bytes = Frames.Write(w => MqttPacketWriter.WritePublish(w, Encoding.UTF8.GetBytes(SamplePackets.IotHubTelemetryTopic), packetId, qos, retain, dup, payload));

        Assert.True(MqttPublishPacket.TryDecode(Frames.Read(bytes), out MqttPublishPacket packet, out MqttProtocolError error));

        Assert.Equal(MqttProtocolError.None, error);
        Assert.Equal(qos, packet.Qos);
        Assert.Equal(packetId, packet.PacketId);
        Assert.Equal(retain, packet.Retain);
        Assert.Equal(dup, packet.Dup);
        Assert.Equal(SamplePackets.IotHubTelemetryTopic, packet.GetTopicString());
        Assert.Equal(payload, packet.Payload.ToArray());
    }

    [Fact]
    public void TryDecode_Payload_IsSliceOfReceiveBuffer()
    {
        byte[] bytes = SamplePackets.All["publish-qos1-telemetry"];

        Assert.True(MqttPublishPacket.TryDecode(Frames.Read(bytes), out MqttPublishPacket packet, out _));

        Assert.True(MemoryMarshalHelpers.IsSliceOf(packet.Payload.First, bytes));
        Assert.True(MemoryMarshalHelpers.IsSliceOf(packet.Topic.First, bytes));
    }

    [Fact]
    public void TryDecode_EmptyPayload_IsEmptySequence()
    {
        Assert.True(MqttPublishPacket.TryDecode(Frames.Read(SamplePackets.All["publish-qos0-empty"]), out MqttPublishPacket packet, out _));

        Assert.True(packet.Payload.IsEmpty);
        Assert.Equal("a", packet.GetTopicString());
    }

    [Theory]
    [InlineData(0x30, "00 03 61 2F 2B", MqttProtocolError.WildcardInTopicName)]
    [InlineData(0x30, "00 03 61 2F 23", MqttProtocolError.WildcardInTopicName)]
    [InlineData(0x30, "00 01 23 FF FF", MqttProtocolError.WildcardInTopicName)]
    [InlineData(0x30, "00 04 61 2B 62 63", MqttProtocolError.WildcardInTopicName)]
    [InlineData(0x30, "00 00", MqttProtocolError.EmptyTopic)]
    [InlineData(0x30, "00 00 01 02", MqttProtocolError.EmptyTopic)]
    [InlineData(0x30, "00 02 61 00", MqttProtocolError.InvalidUtf8String)]
    [InlineData(0x30, "00 02 C3 28", MqttProtocolError.InvalidUtf8String)]
    [InlineData(0x30, "00 03 ED B0 80", MqttProtocolError.InvalidUtf8String)]
    [InlineData(0x30, "00 02 E2 82", MqttProtocolError.InvalidUtf8String)]
    [InlineData(0x32, "00 01 61 00 00", MqttProtocolError.ZeroPacketIdentifier)]
    [InlineData(0x34, "00 01 61 00 00 FF", MqttProtocolError.ZeroPacketIdentifier)]
    [InlineData(0x30, "", MqttProtocolError.TruncatedPacket)]
    [InlineData(0x30, "00", MqttProtocolError.TruncatedPacket)]
    [InlineData(0x30, "00 05 61", MqttProtocolError.TruncatedPacket)]
    [InlineData(0x32, "00 01 61 00", MqttProtocolError.TruncatedPacket)]
    [InlineData(0x32, "00 01 61", MqttProtocolError.TruncatedPacket)]
    public void TryDecode_MalformedPublish_ReportsError(int firstByte, string bodyHex, MqttProtocolError expected)
    {
        MqttFrame frame = Frames.Read(Frames.Build(firstByte, bodyHex));

        Assert.False(MqttPublishPacket.TryDecode(frame, out _, out MqttProtocolError error));

        Assert.Equal(expected, error);
    }

    [Theory]
    [InlineData(0x30, "00 01 2F")]
    [InlineData(0x30, "00 02 2F 2F")]
    [InlineData(0x30, "00 04 24 53 59 53")]
    [InlineData(0x31, "00 01 20")]
    [InlineData(0x3D, "00 01 61 00 01 00")]
    [InlineData(0x30, "00 01 01")]
    public void TryDecode_UnusualButValidTopic_IsAccepted(int firstByte, string bodyHex)
    {
        MqttFrame frame = Frames.Read(Frames.Build(firstByte, bodyHex));

        Assert.True(MqttPublishPacket.TryDecode(frame, out _, out MqttProtocolError error));
        Assert.Equal(MqttProtocolError.None, error);
    }

    [Fact]
    public void TryDecode_TopicWithWildcardAcrossSegments_IsRejected()
    {
        byte[] bytes = Frames.Build(0x30, "00 06 61 62 2F 63 2B 64 FF");

        for (int cut = 1; cut < bytes.Length; cut++)
        {
            MqttFrame frame = Frames.Read(Sequences.Split(bytes, cut));
            Assert.False(MqttPublishPacket.TryDecode(frame, out _, out MqttProtocolError error));
            Assert.Equal(MqttProtocolError.WildcardInTopicName, error);
        }
    }

    [Fact]
    public void TryDecode_LongTopicAcrossSegments_UsesPooledCopyAndValidates()
    {
        byte[] topic = Encoding.UTF8.GetBytes(string.Concat(Enumerable.Repeat("niveau/é/", 200)));
        byte[] bytes = Frames.Write(w => MqttPacketWriter.WritePublish(w, topic, 5, MqttQualityOfService.AtLeastOnce, false, false, "p"u8));

        MqttFrame frame = Frames.Read(Sequences.Split(bytes, 10, 1000));

        Assert.True(MqttPublishPacket.TryDecode(frame, out MqttPublishPacket packet, out _));
        Assert.Equal(topic, packet.Topic.ToArray());
        Assert.Equal(5, packet.PacketId);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void TryDecode_HotPath_DoesNotAllocate(bool splitInTopic)
    {
        byte[] bytes = SamplePackets.All["publish-qos1-telemetry"];
        ReadOnlySequence<byte> buffer = splitInTopic ? Sequences.Split(bytes, 20) : new ReadOnlySequence<byte>(bytes);
        var sink = new ArrayBufferWriter<byte>(64);
        long payloadBytes = 0;
        long bytesPerCall = AllocationMeter.BytesPerCall(() =>
        {
            sink.ResetWrittenCount();
            payloadBytes += ParseAndAck(buffer, sink);
        });
        Assert.Equal(0, bytesPerCall);
        Assert.True(payloadBytes > 0 && payloadBytes % 100 == 0, $"each decode should see the 100-byte payload; saw {payloadBytes} bytes in all");
    }

    private static long ParseAndAck(in ReadOnlySequence<byte> buffer, ArrayBufferWriter<byte> sink)
    {
        MqttFrameReader.TryReadFrame(buffer, 1024, out MqttFrame frame, out _, out _);
        MqttPublishPacket.TryDecode(frame, out MqttPublishPacket packet, out _);
        MqttPacketWriter.WritePubAck(sink, packet.PacketId);
        return packet.Payload.Length;
    }
}
