using Broker.Protocols.Mqtt.Codec;
using Broker.Protocols.Mqtt.Tests.Support;

namespace Broker.Protocols.Mqtt.Tests.Codec;

public sealed class MqttEmptyPacketTests
{
    [Theory]
    [InlineData("pingreq", MqttPacketType.PingReq, "C000")]
    [InlineData("pingresp", MqttPacketType.PingResp, "D000")]
    [InlineData("disconnect", MqttPacketType.Disconnect, "E000")]
    public void Write_ThenTryDecode_RoundTrips(string sample, MqttPacketType type, string expectedHex)
    {
        byte[] bytes = SamplePackets.All[sample];

        Assert.True(MqttEmptyPacket.TryDecode(Frames.Read(bytes), out MqttEmptyPacket packet, out _));

        Assert.Equal(expectedHex, Hex.Format(bytes));
        Assert.Equal(type, packet.Type);
    }

    [Fact]
    public void TryDecode_DefaultFrame_ReportsUnexpectedTypeForEveryDecoder()
    {
        MqttFrame frame = default;

        Assert.False(MqttConnectPacket.TryDecode(frame, out _, out MqttProtocolError connect));
        Assert.False(MqttConnAckPacket.TryDecode(frame, out _, out MqttProtocolError connAck));
        Assert.False(MqttPublishPacket.TryDecode(frame, out _, out MqttProtocolError publish));
        Assert.False(MqttAckPacket.TryDecode(frame, out _, out MqttProtocolError ack));
        Assert.False(MqttSubscribePacket.TryDecode(frame, out _, out MqttProtocolError subscribe));
        Assert.False(MqttSubAckPacket.TryDecode(frame, out _, out MqttProtocolError subAck));
        Assert.False(MqttUnsubscribePacket.TryDecode(frame, out _, out MqttProtocolError unsubscribe));
        Assert.False(MqttEmptyPacket.TryDecode(frame, out _, out MqttProtocolError empty));

        Assert.All([connect, connAck, publish, ack, subscribe, subAck, unsubscribe, empty], error => Assert.Equal(MqttProtocolError.UnexpectedPacketType, error));
    }

    [Fact]
    public void TryDecode_FrameOfAnotherType_ReportsUnexpectedType()
    {
        foreach (byte[] bytes in SamplePackets.All.Values)
        {
            PacketCodec.DecodeWithEveryDecoder(Frames.Read(bytes));
        }
    }
}
