using System.Buffers;
using System.Text;
using Broker.Protocols.Mqtt.Codec;
using Broker.Protocols.Mqtt.Tests.Support;

namespace Broker.Protocols.Mqtt.Tests.Codec;

public sealed class MqttUnsubscribePacketTests
{
    [Fact]
    public void TryDecode_MultipleFilters_EnumeratesInWireOrder()
    {
        Assert.True(MqttUnsubscribePacket.TryDecode(Frames.Read(SamplePackets.All["unsubscribe-multi"]), out MqttUnsubscribePacket packet, out _));

        var seen = new List<string>();
        foreach (ReadOnlySequence<byte> filter in packet)
        {
            seen.Add(Encoding.UTF8.GetString(filter));
        }

        Assert.Equal(13, packet.PacketId);
        Assert.Equal(3, packet.Count);
        Assert.Equal(["a/+/b", "/", "+"], seen);
    }

    [Theory]
    [InlineData("00 01", MqttProtocolError.NoTopicFilters)]
    [InlineData("00", MqttProtocolError.TruncatedPacket)]
    [InlineData("00 00 00 01 61", MqttProtocolError.ZeroPacketIdentifier)]
    [InlineData("00 01 00 01 23 00", MqttProtocolError.TruncatedPacket)]
    [InlineData("00 01 00 03 23", MqttProtocolError.TruncatedPacket)]
    [InlineData("00 01 00 00", MqttProtocolError.EmptyTopic)]
    [InlineData("00 01 00 02 23 61", MqttProtocolError.InvalidTopicFilter)]
    [InlineData("00 01 00 01 61 00 03 61 2B 62", MqttProtocolError.InvalidTopicFilter)]
    [InlineData("00 01 00 01 FF", MqttProtocolError.InvalidUtf8String)]
    public void TryDecode_MalformedUnsubscribe_ReportsError(string bodyHex, MqttProtocolError expected)
    {
        Assert.False(MqttUnsubscribePacket.TryDecode(Frames.Read(Frames.Build(0xA2, bodyHex)), out _, out MqttProtocolError error));

        Assert.Equal(expected, error);
    }
}
