using System.Text;
using Broker.Protocols.Mqtt.Codec;
using Broker.Protocols.Mqtt.IotHub;

namespace Broker.Protocols.Mqtt.Tests.IotHub;

public sealed class IotHubTopicsTests
{
    [Theory]
    [InlineData("devices/dev-1/messages/events/", "dev-1", "", "")]
    [InlineData("devices/dev-1/messages/events", "dev-1", "", "")]
    [InlineData("devices/dev-1/messages/events/%24.ct=application%2Fjson&%24.ce=utf-8&k=v", "dev-1", "", "%24.ct=application%2Fjson&%24.ce=utf-8&k=v")]
    [InlineData("devices/dev-1/messages/events/$.mid=1&a=b/", "dev-1", "", "$.mid=1&a=b")]
    [InlineData("devices/dev-1/modules/m1/messages/events/x=1", "dev-1", "m1", "x=1")]
    public void ClassifyPublish_OwnTelemetryTopic_IsTelemetryWithBag(string topic, string deviceId, string moduleId, string bag)
    {
        var kind = IotHubTopics.ClassifyPublish(Encoding.UTF8.GetBytes(topic), Encoding.UTF8.GetBytes(deviceId), Encoding.UTF8.GetBytes(moduleId), out var parsedBag);
        Assert.Equal(IotHubTopicKind.Telemetry, kind);
        Assert.Equal(bag, Encoding.UTF8.GetString(parsedBag));
    }

    [Theory]
    [InlineData("devices/dev-2/messages/events/", "dev-1", "")]
    [InlineData("devices/dev-10/messages/events/", "dev-1", "")]
    [InlineData("devices/dev-1/modules/m1/messages/events/", "dev-1", "")]
    [InlineData("devices/dev-1/messages/events/", "dev-1", "m1")]
    [InlineData("devices/dev-1/messages/eventsX", "dev-1", "")]
    [InlineData("devices/dev-1/messages/events/a=1/b=2", "dev-1", "")]
    [InlineData("devices/dev-1/messages/devicebound/", "dev-1", "")]
    [InlineData("$iothub/twin/GET/", "dev-1", "")]
    [InlineData("$iothub/methods/res/abc/?$rid=1", "dev-1", "")]
    [InlineData("some/other/topic", "dev-1", "")]
    public void ClassifyPublish_OutsideGrammarOrOtherIdentity_IsInvalid(string topic, string deviceId, string moduleId)
        => Assert.Equal(IotHubTopicKind.Invalid,
            IotHubTopics.ClassifyPublish(Encoding.UTF8.GetBytes(topic), Encoding.UTF8.GetBytes(deviceId), Encoding.UTF8.GetBytes(moduleId), out _));

    [Theory]
    [InlineData("$iothub/twin/GET/?$rid=1", IotHubTopicKind.TwinGet, "$rid=1")]
    [InlineData("$iothub/twin/PATCH/properties/reported/?$rid=7", IotHubTopicKind.TwinReportedPatch, "$rid=7")]
    [InlineData("$iothub/methods/res/200/?$rid=abc", IotHubTopicKind.MethodResponse, "$rid=abc")]
    public void ClassifyPublish_TwinAndMethodTopics_AreClassified(string topic, IotHubTopicKind expected, string query)
    {
        Assert.Equal(expected, IotHubTopics.ClassifyPublish(Encoding.UTF8.GetBytes(topic), "d"u8, default, out var parsed));
        Assert.Equal(query, Encoding.UTF8.GetString(parsed));
    }

    [Theory]
    [InlineData("devices/dev-1/messages/devicebound/#", MqttQualityOfService.AtLeastOnce, MqttSubscribeReturnCode.GrantedQos1)]
    [InlineData("$iothub/twin/res/#", MqttQualityOfService.AtMostOnce, MqttSubscribeReturnCode.GrantedQos0)]
    [InlineData("$iothub/twin/PATCH/properties/desired/#", MqttQualityOfService.ExactlyOnce, MqttSubscribeReturnCode.GrantedQos1)]
    [InlineData("$iothub/methods/POST/#", MqttQualityOfService.AtMostOnce, MqttSubscribeReturnCode.GrantedQos0)]
    public void GrantSubscription_GrammarFilters_AreGrantedAtMostQos1(string filter, MqttQualityOfService requested, MqttSubscribeReturnCode expected)
        => Assert.Equal(expected, IotHubTopics.GrantSubscription(Encoding.UTF8.GetBytes(filter), "dev-1"u8, default, requested));

    [Theory]
    [InlineData("devices/dev-2/messages/devicebound/#")]
    [InlineData("devices/+/messages/devicebound/#")]
    [InlineData("#")]
    [InlineData("$iothub/#")]
    [InlineData("devices/dev-1/#")]
    public void GrantSubscription_OtherFilters_CloseTheConnection(string filter)
        => Assert.Null(IotHubTopics.GrantSubscription(Encoding.UTF8.GetBytes(filter), "dev-1"u8, default, MqttQualityOfService.AtLeastOnce));
}
