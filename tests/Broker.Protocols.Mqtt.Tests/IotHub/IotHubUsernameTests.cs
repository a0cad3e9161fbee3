using Broker.Protocols.Mqtt.IotHub;

namespace Broker.Protocols.Mqtt.Tests.IotHub;

public sealed class IotHubUsernameTests
{
    [Theory]
    [InlineData("hub.example/dev-1/?api-version=2021-04-12", "hub.example", "dev-1", null)]
    [InlineData("hub.example/dev-1/?api-version=2021-04-12&DeviceClientType=azure-iot-device%2F1.0&model-id=dtmi%3Aa%3Bb", "hub.example", "dev-1", null)]
    [InlineData("hub.example/dev-1/mod-a/?api-version=2020-09-30", "hub.example", "dev-1", "mod-a")]
    [InlineData("hub.example/dev-1/api-version=2016-11-14&DeviceClientType=c", "hub.example", "dev-1", null)]
    [InlineData("localhost:8883/d/?unknown=1&api-version=x", "localhost:8883", "d", null)]
    public void TryParse_IotHubShapes_YieldsIdentity(string userName, string host, string deviceId, string? moduleId)
    {
        var parsed = IotHubUsername.TryParse(userName);
        Assert.NotNull(parsed);
        Assert.Equal(host, parsed.HostName);
        Assert.Equal(deviceId, parsed.DeviceId);
        Assert.Equal(moduleId, parsed.ModuleId);
    }

    [Theory]
    [InlineData(null)]
    [InlineData("")]
    [InlineData("dev-1")]
    [InlineData("hub/dev-1/")]
    [InlineData("hub/dev-1/?DeviceClientType=x")]
    [InlineData("hub//?api-version=1")]
    [InlineData("hub/a/b/c/?api-version=1")]
    public void TryParse_OtherShapes_ReturnsNull(string? userName) => Assert.Null(IotHubUsername.TryParse(userName));
}
