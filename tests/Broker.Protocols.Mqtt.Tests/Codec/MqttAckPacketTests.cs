using Broker.Protocols.Mqtt.Codec;
using Broker.Protocols.Mqtt.Tests.Support;

namespace Broker.Protocols.Mqtt.Tests.Codec;

public sealed class MqttAckPacketTests
{
    [Theory]
    [InlineData(MqttPacketType.PubAck, 0x40)]
    [InlineData(MqttPacketType.PubRec, 0x50)]
    [InlineData(MqttPacketType.PubRel, 0x62)]
    [InlineData(MqttPacketType.PubComp, 0x70)]
    [InlineData(MqttPacketType.UnsubAck, 0xB0)]
    public void WriteAck_ThenTryDecode_RoundTripsPacketId(MqttPacketType type, int firstByte)
    {
        byte[] bytes = Frames.Write(w =>
        {
            switch (type)
            {
                case MqttPacketType.PubAck: MqttPacketWriter.WritePubAck(w, 0xBEEF); break;
                case MqttPacketType.PubRec: MqttPacketWriter.WritePubRec(w, 0xBEEF); break;
                case MqttPacketType.PubRel: MqttPacketWriter.WritePubRel(w, 0xBEEF); break;
                case MqttPacketType.PubComp: MqttPacketWriter.WritePubComp(w, 0xBEEF); break;
                default: MqttPacketWriter.WriteUnsubAck(w, 0xBEEF); break;
            }
        });

        Assert.True(MqttAckPacket.TryDecode(Frames.Read(bytes), out MqttAckPacket packet, out _));

        Assert.Equal([(byte)firstByte, 0x02, 0xBE, 0xEF], bytes);
        Assert.Equal(type, packet.Type);
        Assert.Equal(0xBEEF, packet.PacketId);
    }

    [Theory]
    [InlineData(0x40)]
    [InlineData(0x50)]
    [InlineData(0x62)]
    [InlineData(0x70)]
    [InlineData(0xB0)]
    public void TryDecode_ZeroPacketId_ReportsError(int firstByte)
    {
        Assert.False(MqttAckPacket.TryDecode(Frames.Read(Frames.Build(firstByte, "00 00")), out _, out MqttProtocolError error));

        Assert.Equal(MqttProtocolError.ZeroPacketIdentifier, error);
    }

    [Fact]
    public void TryDecode_PacketIdSplitAcrossSegments_IsRead()
    {
        MqttFrame frame = Frames.Read(Sequences.Split([0x40, 0x02, 0x12, 0x34], 3));

        Assert.True(MqttAckPacket.TryDecode(frame, out MqttAckPacket packet, out _));

        Assert.Equal(0x1234, packet.PacketId);
    }
}
