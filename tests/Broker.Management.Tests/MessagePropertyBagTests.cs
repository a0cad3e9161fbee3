using Broker.Core.Telemetry;

namespace Broker.Management.Tests;

public sealed class MessagePropertyBagTests
{
    [Fact]
    public void Parse_Empty_NoProperties() => Assert.Empty(MessagePropertyBag.Parse(""));

    [Fact]
    public void Parse_SystemAndApplication_InOrderAndDecoded()
    {
        var properties = MessagePropertyBag.Parse("%24.mid=m1&%24.ct=application%2Fjson&temp=21");

        Assert.Equal(
            [new MessageProperty("$.mid", "m1"), new MessageProperty("$.ct", "application/json"), new MessageProperty("temp", "21")],
            properties);
        Assert.True(properties[0].IsSystem);
        Assert.True(properties[1].IsSystem);
        Assert.False(properties[2].IsSystem);
    }

    [Fact]
    public void Parse_LiteralDollarKeys_AreSystem()
        => Assert.True(Assert.Single(MessagePropertyBag.Parse("$.cid=c1")).IsSystem);

    [Fact]
    public void Parse_NameWithoutEquals_HasNullValue()
        => Assert.Equal([new MessageProperty("alert", null), new MessageProperty("x", "")], MessagePropertyBag.Parse("alert&x="));

    [Fact]
    public void Parse_EmptyPairs_AreSkipped()
        => Assert.Equal([new MessageProperty("a", "1"), new MessageProperty("b", "2")], MessagePropertyBag.Parse("&a=1&&b=2&"));

    [Fact]
    public void Parse_ValueWithEquals_SplitsOnTheFirst()
        => Assert.Equal(new MessageProperty("q", "a=b"), Assert.Single(MessagePropertyBag.Parse("q=a=b")));

    [Theory]
    [InlineData("na%20me=v%26x", "na me", "v&x")]
    [InlineData("k=a+b", "k", "a+b")]
    [InlineData("k=100%", "k", "100%")]
    [InlineData("k=%zz%4", "k", "%zz%4")]
    [InlineData("k=%C3%A9t%C3%A9", "k", "été")]
    [InlineData("k=%c3%a9", "k", "é")]
    public void Parse_PercentDecoding(string bag, string name, string value)
        => Assert.Equal(new MessageProperty(name, value), Assert.Single(MessagePropertyBag.Parse(bag)));

    [Fact]
    public void Parse_LongEscapedValue_Decodes()
    {
        var value = new string('x', 600);
        Assert.Equal(value + " ", Assert.Single(MessagePropertyBag.Parse("k=" + value + "%20")).Value);
    }

    [Theory]
    [InlineData("$.mid", "message-id")]
    [InlineData("$.cid", "correlation-id")]
    [InlineData("$.ct", "content-type")]
    [InlineData("$.ce", "content-encoding")]
    [InlineData("$.uid", "user-id")]
    [InlineData("$.ctime", "iothub-creation-time-utc")]
    [InlineData("$.sub", "dt-subject")]
    [InlineData("$.unknown", null)]
    public void SystemPropertyName_MapsMqttKeys(string key, string? expected)
        => Assert.Equal(expected, MessagePropertyBag.SystemPropertyName(key));
}
