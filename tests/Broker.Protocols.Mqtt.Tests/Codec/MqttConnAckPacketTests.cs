using Broker.Protocols.Mqtt.Codec;
using Broker.Protocols.Mqtt.Tests.Support;

namespace Broker.Protocols.Mqtt.Tests.Codec;

public sealed class MqttConnAckPacketTests
{
    [Theory]
    [InlineData(true, MqttConnectReturnCode.Accepted)]
    [InlineData(false, MqttConnectReturnCode.Accepted)]
    [InlineData(false, MqttConnectReturnCode.UnacceptableProtocolVersion)]
    [InlineData(false, MqttConnectReturnCode.IdentifierRejected)]
    [InlineData(false, MqttConnectReturnCode.ServerUnavailable)]
    [InlineData(false, MqttConnectReturnCode.BadUserNameOrPassword)]
    [InlineData(false, MqttConnectReturnCode.NotAuthorized)]
    public void WriteConnAck_ThenTryDecode_RoundTrips(bool sessionPresent, MqttConnectReturnCode code)
    {
        byte[] bytes = Frames.Write(w => MqttPacketWriter.WriteConnAck(w, sessionPresent, code));

        Assert.True(MqttConnAckPacket.TryDecode(Frames.Read(bytes), out MqttConnAckPacket packet, out _));

        Assert.Equal([0x20, 0x02, sessionPresent ? (byte)1 : (byte)0, (byte)code], bytes);
        Assert.Equal(sessionPresent, packet.SessionPresent);
        Assert.Equal(code, packet.ReturnCode);
    }

    [Theory]
    [InlineData("00 06", MqttProtocolError.InvalidConnectReturnCode)]
    [InlineData("00 FF", MqttProtocolError.InvalidConnectReturnCode)]
    [InlineData("02 00", MqttProtocolError.InvalidConnAckFlags)]
    [InlineData("80 00", MqttProtocolError.InvalidConnAckFlags)]
    [InlineData("01 05", MqttProtocolError.InvalidConnAckFlags)]
    public void TryDecode_MalformedConnAck_ReportsError(string bodyHex, MqttProtocolError expected)
    {
        Assert.False(MqttConnAckPacket.TryDecode(Frames.Read(Frames.Build(0x20, bodyHex)), out _, out MqttProtocolError error));

        Assert.Equal(expected, error);
    }
}
