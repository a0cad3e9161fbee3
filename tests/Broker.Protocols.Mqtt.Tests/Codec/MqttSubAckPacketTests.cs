using Broker.Protocols.Mqtt.Codec;
using Broker.Protocols.Mqtt.Tests.Support;

namespace Broker.Protocols.Mqtt.Tests.Codec;

public sealed class MqttSubAckPacketTests
{
    [Fact]
    public void WriteSubAck_ThenTryDecode_RoundTripsReturnCodes()
    {
        byte[] bytes = SamplePackets.All["suback"];

        Assert.True(MqttSubAckPacket.TryDecode(Frames.Read(bytes), out MqttSubAckPacket packet, out _));

        var codes = new MqttSubscribeReturnCode[packet.Count];
        packet.CopyReturnCodesTo(codes);
        Assert.Equal("9006000B00010280", Hex.Format(bytes));
        Assert.Equal(11, packet.PacketId);
        Assert.Equal(
            [MqttSubscribeReturnCode.GrantedQos0, MqttSubscribeReturnCode.GrantedQos1, MqttSubscribeReturnCode.GrantedQos2, MqttSubscribeReturnCode.Failure],
            codes);
    }

    [Theory]
    [InlineData("00 01", MqttProtocolError.InvalidSubAckReturnCode)]
    [InlineData("00 01 03", MqttProtocolError.InvalidSubAckReturnCode)]
    [InlineData("00 01 00 81", MqttProtocolError.InvalidSubAckReturnCode)]
    [InlineData("00 01 7F", MqttProtocolError.InvalidSubAckReturnCode)]
    [InlineData("00 00 00", MqttProtocolError.ZeroPacketIdentifier)]
    [InlineData("00", MqttProtocolError.TruncatedPacket)]
    public void TryDecode_MalformedSubAck_ReportsError(string bodyHex, MqttProtocolError expected)
    {
        Assert.False(MqttSubAckPacket.TryDecode(Frames.Read(Frames.Build(0x90, bodyHex)), out _, out MqttProtocolError error));

        Assert.Equal(expected, error);
    }
}
