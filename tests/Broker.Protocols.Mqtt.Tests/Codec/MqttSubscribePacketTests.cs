using System.Buffers;
using Broker.Protocols.Mqtt.Codec;
using Broker.Protocols.Mqtt.Tests.Support;

namespace Broker.Protocols.Mqtt.Tests.Codec;

public sealed class MqttSubscribePacketTests
{
    [Fact]
    public void TryDecode_MultipleFilters_EnumeratesInWireOrder()
    {
        Assert.True(MqttSubscribePacket.TryDecode(Frames.Read(SamplePackets.All["subscribe-multi"]), out MqttSubscribePacket packet, out _));

        var seen = new List<(string, MqttQualityOfService)>();
        foreach (MqttSubscription subscription in packet)
        {
            seen.Add((subscription.GetFilterString(), subscription.RequestedQos));
        }

        Assert.Equal(11, packet.PacketId);
        Assert.Equal(4, packet.Count);
        Assert.Equal(
            [("$iothub/twin/res/#", MqttQualityOfService.AtMostOnce), ("+/+/x", MqttQualityOfService.AtLeastOnce), ("#", MqttQualityOfService.ExactlyOnce), ("//", MqttQualityOfService.AtMostOnce)],
            seen);
    }

    [Fact]
    public void TryDecode_SingleFilter_RoundTrips()
    {
        Assert.True(MqttSubscribePacket.TryDecode(Frames.Read(SamplePackets.All["subscribe-single"]), out MqttSubscribePacket packet, out _));

        MqttSubscriptionEnumerator enumerator = packet.GetEnumerator();
        Assert.True(enumerator.MoveNext());
        Assert.Equal("devices/dev-1/messages/devicebound/#", enumerator.Current.GetFilterString());
        Assert.Equal(MqttQualityOfService.AtLeastOnce, enumerator.Current.RequestedQos);
        Assert.False(enumerator.MoveNext());
    }

    [Theory]
    [InlineData("00 01", MqttProtocolError.NoTopicFilters)]
    [InlineData("00", MqttProtocolError.TruncatedPacket)]
    [InlineData("", MqttProtocolError.TruncatedPacket)]
    [InlineData("00 00 00 01 61 00", MqttProtocolError.ZeroPacketIdentifier)]
    [InlineData("00 01 00 01 61 03", MqttProtocolError.InvalidSubscriptionOptions)]
    [InlineData("00 01 00 01 61 04", MqttProtocolError.InvalidSubscriptionOptions)]
    [InlineData("00 01 00 01 61 80", MqttProtocolError.InvalidSubscriptionOptions)]
    [InlineData("00 01 00 01 61 00 00 01 62 41", MqttProtocolError.InvalidSubscriptionOptions)]
    [InlineData("00 01 00 01 61", MqttProtocolError.TruncatedPacket)]
    [InlineData("00 01 00 01 61 00 00", MqttProtocolError.TruncatedPacket)]
    [InlineData("00 01 00 05 61 00", MqttProtocolError.TruncatedPacket)]
    [InlineData("00 01 00 00 00", MqttProtocolError.EmptyTopic)]
    [InlineData("00 01 00 05 61 2F 23 2F 62 00", MqttProtocolError.InvalidTopicFilter)]
    [InlineData("00 01 00 02 61 23 00", MqttProtocolError.InvalidTopicFilter)]
    [InlineData("00 01 00 02 23 2F 00", MqttProtocolError.InvalidTopicFilter)]
    [InlineData("00 01 00 04 61 2F 62 2B 00", MqttProtocolError.InvalidTopicFilter)]
    [InlineData("00 01 00 02 2B 61 00", MqttProtocolError.InvalidTopicFilter)]
    [InlineData("00 01 00 02 2B 2B 00", MqttProtocolError.InvalidTopicFilter)]
    [InlineData("00 01 00 02 23 23 00", MqttProtocolError.InvalidTopicFilter)]
    [InlineData("00 01 00 02 C3 28 00", MqttProtocolError.InvalidUtf8String)]
    [InlineData("00 01 00 02 61 00 00", MqttProtocolError.InvalidUtf8String)]
    public void TryDecode_MalformedSubscribe_ReportsError(string bodyHex, MqttProtocolError expected)
    {
        Assert.False(MqttSubscribePacket.TryDecode(Frames.Read(Frames.Build(0x82, bodyHex)), out _, out MqttProtocolError error));

        Assert.Equal(expected, error);
    }
}
