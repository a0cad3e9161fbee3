using System.Buffers;
using System.Text;
using Broker.Protocols.Mqtt.Codec;
using Broker.Protocols.Mqtt.Tests.Support;

namespace Broker.Protocols.Mqtt.Tests.Codec;

public sealed class MqttTopicValidatorTests
{
    [Theory]
    [InlineData("#")]
    [InlineData("+")]
    [InlineData("/")]
    [InlineData("//")]
    [InlineData("+/+")]
    [InlineData("/+")]
    [InlineData("+/")]
    [InlineData("/#")]
    [InlineData("+/#")]
    [InlineData("a/+/b/#")]
    [InlineData("sport/tennis/+")]
    [InlineData("$SYS/#")]
    [InlineData("$iothub/twin/res/#")]
    [InlineData("a b/ç/日本")]
    public void ValidateTopicFilter_ValidFilter_ReturnsNone(string filter)
    {
        Assert.Equal(MqttProtocolError.None, MqttTopicValidator.ValidateTopicFilter(Encoding.UTF8.GetBytes(filter)));
    }

    [Theory]
    [InlineData("#/")]
    [InlineData("a/#/b")]
    [InlineData("a#")]
    [InlineData("#a")]
    [InlineData("a/b#")]
    [InlineData("sport/tennis#")]
    [InlineData("+a")]
    [InlineData("a+")]
    [InlineData("a/+b/c")]
    [InlineData("++")]
    [InlineData("+#")]
    [InlineData("#+")]
    [InlineData("##")]
    public void ValidateTopicFilter_MisplacedWildcard_ReturnsInvalidTopicFilter(string filter)
    {
        Assert.Equal(MqttProtocolError.InvalidTopicFilter, MqttTopicValidator.ValidateTopicFilter(Encoding.UTF8.GetBytes(filter)));
    }

    [Theory]
    [InlineData("", MqttProtocolError.EmptyTopic)]
    [InlineData("a", MqttProtocolError.None)]
    [InlineData("/", MqttProtocolError.None)]
    [InlineData("a/+", MqttProtocolError.WildcardInTopicName)]
    [InlineData("#", MqttProtocolError.WildcardInTopicName)]
    [InlineData("a\0b", MqttProtocolError.InvalidUtf8String)]
    [InlineData("\u0001\u001f\u007f\u0080\u009f", MqttProtocolError.None)]
    public void ValidateTopicName_Topic_ReturnsExpected(string topic, MqttProtocolError expected)
    {
        Assert.Equal(expected, MqttTopicValidator.ValidateTopicName(Encoding.UTF8.GetBytes(topic)));
    }

    [Theory]
    [InlineData("C3 28")]
    [InlineData("80")]
    [InlineData("C0 AF")]
    [InlineData("E0 80 AF")]
    [InlineData("ED A0 80")]
    [InlineData("ED BF BF")]
    [InlineData("F4 90 80 80")]
    [InlineData("F8 88 80 80 80")]
    [InlineData("E2 82")]
    [InlineData("61 00")]
    public void IsValidString_IllFormedOrNul_ReturnsFalse(string hex)
    {
        byte[] bytes = Hex.Parse(hex);

        Assert.False(MqttTopicValidator.IsValidString(bytes));
        Assert.False(MqttTopicValidator.IsValidString(Sequences.OneBytePerSegment(bytes)));
    }

    [Fact]
    public void ValidateTopicFilter_SequenceSplitAtEveryByte_MatchesSpanVerdict()
    {
        string[] filters = ["a/b/#", "a/#/b", "+/x/+", "x+/y", "ü/+/日本/#", "ab\0", "a/\U0001F600/+"];
        foreach (string filter in filters)
        {
            byte[] bytes = Encoding.UTF8.GetBytes(filter);
            MqttProtocolError expected = MqttTopicValidator.ValidateTopicFilter(bytes);
            for (int cut = 0; cut <= bytes.Length; cut++)
            {
                Assert.Equal(expected, MqttTopicValidator.ValidateTopicFilter(Sequences.Split(bytes, cut)));
            }

            Assert.Equal(expected, MqttTopicValidator.ValidateTopicFilter(Sequences.OneBytePerSegment(bytes)));
        }
    }

    [Fact]
    public void ValidateTopicName_MaximumLengthAcrossSegments_IsValidated()
    {
        byte[] bytes = Enumerable.Repeat((byte)'a', ushort.MaxValue).ToArray();
        bytes[^1] = (byte)'#';

        ReadOnlySequence<byte> split = Sequences.Split(bytes, 4096, 8192);

        Assert.Equal(MqttProtocolError.WildcardInTopicName, MqttTopicValidator.ValidateTopicName(split));
        bytes[^1] = (byte)'a';
        Assert.Equal(MqttProtocolError.None, MqttTopicValidator.ValidateTopicName(Sequences.Split(bytes, 4096, 8192)));
    }
}
