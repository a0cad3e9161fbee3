using System.Text;
using Broker.Core.Hub;
using Broker.Host.Tests.Support;
using Broker.IntegrationTests.Support;
using Broker.Management.V1;
using Microsoft.Extensions.DependencyInjection;
using MQTTnet;
using MQTTnet.Protocol;

namespace Broker.IntegrationTests.Mqtt;

/// <summary>
/// IoT Hub's Will and RETAIN rules with MQTTnet as the device: a Will on the device's own telemetry topic is sent as
/// telemetry with <c>iothub-MessageType=Will</c> when the connection ends without DISCONNECT, and only then; a Will
/// anywhere else is refused at CONNECT; RETAIN keeps nothing and forwards the message with <c>mqtt-retain=true</c>.
/// </summary>
public sealed class MqttWillAndRetainTests(BrokerHostFixture fixture) : IClassFixture<BrokerHostFixture>
{
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(30);
    private readonly TestBroker _broker = fixture.Broker;

    [Fact]
    public async Task Will_ConnectionLostWithoutDisconnect_IsStoredAsTelemetryWithMessageTypeWill()
    {
        var device = await _broker.CreateDeviceAsync("will-lost");
        var gone = WhenDisconnected(device.DeviceId);
        var client = await ConnectWithWillAsync(device, $"devices/{device.DeviceId}/messages/events/%24.ct=text%2Fplain&state=offline", retain: false);
        client.Dispose(); // the socket goes away without DISCONNECT
        await gone.WaitAsync(Bound);

        var will = await ReadUntilAsync(device.DeviceId, e => e.Body.ToStringUtf8() == "last words");
        Assert.Equal("Will", will.Properties["iothub-MessageType"]);
        Assert.Equal("offline", will.Properties["state"]);
        Assert.Equal("text/plain", will.ContentType);
        Assert.False(will.Properties.ContainsKey("mqtt-retain"));
        Assert.Equal(device.DeviceId, will.SystemProperties["iothub-connection-device-id"]);
    }

    [Fact]
    public async Task Will_Retained_IsStoredWithMqttRetain()
    {
        var device = await _broker.CreateDeviceAsync("will-retained");
        var gone = WhenDisconnected(device.DeviceId);
        var client = await ConnectWithWillAsync(device, $"devices/{device.DeviceId}/messages/events/", retain: true);
        client.Dispose();
        await gone.WaitAsync(Bound);

        var will = await ReadUntilAsync(device.DeviceId, e => e.Body.ToStringUtf8() == "last words");
        Assert.Equal("Will", will.Properties["iothub-MessageType"]);
        Assert.Equal("true", will.Properties["mqtt-retain"]);
    }

    [Fact]
    public async Task Will_ConnectionTakenOverByANewerOne_IsSent()
    {
        var device = await _broker.CreateDeviceAsync("will-takeover");
        using var first = await ConnectWithWillAsync(device, $"devices/{device.DeviceId}/messages/events/", retain: false);
        await using var second = await TestDevice.ConnectAsync(_broker, device.DeviceId, TestBroker.PrimaryKeyOf(device));

        // The device stays connected through its newer connection, so the read waits for the Will itself.
        var will = await ReadUntilAsync(device.DeviceId, e => e.Body.ToStringUtf8() == "last words");
        Assert.Equal("Will", will.Properties["iothub-MessageType"]);
    }

    [Fact]
    public async Task Will_AfterDisconnect_IsNotSent()
    {
        var device = await _broker.CreateDeviceAsync("will-graceful");
        var gone = WhenDisconnected(device.DeviceId);
        using (var client = await ConnectWithWillAsync(device, $"devices/{device.DeviceId}/messages/events/", retain: false))
        {
            await client.DisconnectAsync();
        }

        // The Will would be stored before the connection is unregistered, so before anything published after it.
        await gone.WaitAsync(Bound);
        await using (var again = await TestDevice.ConnectAsync(_broker, device.DeviceId, TestBroker.PrimaryKeyOf(device)))
        {
            await again.PublishAsync($"devices/{device.DeviceId}/messages/events/", "marker", MqttQualityOfServiceLevel.AtLeastOnce);
        }

        var events = await ReadAllUntilAsync(device.DeviceId, e => e.Body.ToStringUtf8() == "marker");
        Assert.DoesNotContain(events, e => e.Properties.ContainsKey("iothub-MessageType"));
    }

    [Theory]
    [InlineData("devices/someone-else/messages/events/")]
    [InlineData("$iothub/twin/PATCH/properties/reported/?$rid=1")]
    [InlineData("devices/{0}/messages/devicebound/")]
    public async Task Will_OnATopicOtherThanItsOwnTelemetry_IsRefusedNotAuthorized(string topic)
    {
        var device = await _broker.CreateDeviceAsync($"will-refused-{Math.Abs(topic.GetHashCode(StringComparison.Ordinal)) % 1000}");
        using var client = new MqttClientFactory().CreateMqttClient();
        var options = WillOptions(device, string.Format(System.Globalization.CultureInfo.InvariantCulture, topic, device.DeviceId), retain: false);
        using var bound = new CancellationTokenSource(Bound);
        var result = await client.ConnectAsync(options, bound.Token);
        Assert.Equal(MqttClientConnectResultCode.NotAuthorized, result.ResultCode);
    }

    [Fact]
    public async Task Publish_WithRetain_IsStoredWithMqttRetain_AndWithoutItHasNoSuchProperty()
    {
        var device = await _broker.CreateDeviceAsync("retain-publish");
        using var client = new MqttClientFactory().CreateMqttClient();
        using var bound = new CancellationTokenSource(Bound);
        await client.ConnectAsync(DeviceMqtt.Options(_broker, device.DeviceId, _broker.CreateSasToken(device.DeviceId, TestBroker.PrimaryKeyOf(device)), tls: false), bound.Token);
        foreach (var (body, retain) in new[] { ("retained", true), ("plain", false) })
        {
            var result = await client.PublishAsync(new MqttApplicationMessageBuilder()
                .WithTopic($"devices/{device.DeviceId}/messages/events/k=v")
                .WithPayload(body)
                .WithRetainFlag(retain)
                .WithQualityOfServiceLevel(MqttQualityOfServiceLevel.AtLeastOnce)
                .Build(), bound.Token);
            Assert.True(result.IsSuccess);
        }

        await client.DisconnectAsync(cancellationToken: bound.Token);
        var events = await ReadAllUntilAsync(device.DeviceId, e => e.Body.ToStringUtf8() == "plain");
        var retained = Assert.Single(events, e => e.Body.ToStringUtf8() == "retained");
        Assert.Equal("true", retained.Properties["mqtt-retain"]);
        Assert.Equal("v", retained.Properties["k"]);
        Assert.False(events.Single(e => e.Body.ToStringUtf8() == "plain").Properties.ContainsKey("mqtt-retain"));
    }

    private MqttClientOptions WillOptions(Broker.Core.Registry.Device device, string willTopic, bool retain)
    {
        var options = DeviceMqtt.Options(_broker, device.DeviceId, _broker.CreateSasToken(device.DeviceId, TestBroker.PrimaryKeyOf(device)), tls: false);
        options.WillTopic = willTopic;
        options.WillPayload = Encoding.UTF8.GetBytes("last words");
        options.WillQualityOfServiceLevel = MqttQualityOfServiceLevel.AtLeastOnce;
        options.WillRetain = retain;
        return options;
    }

    private async Task<IMqttClient> ConnectWithWillAsync(Broker.Core.Registry.Device device, string willTopic, bool retain)
    {
        var client = new MqttClientFactory().CreateMqttClient();
        using var bound = new CancellationTokenSource(Bound);
        var result = await client.ConnectAsync(WillOptions(device, willTopic, retain), bound.Token);
        Assert.Equal(MqttClientConnectResultCode.Success, result.ResultCode);
        return client;
    }

    private Task WhenDisconnected(string deviceId)
    {
        var connections = _broker.Services.GetRequiredService<ConnectionRegistry>();
        var gone = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        connections.ConnectionChanged += (context, connected) =>
        {
            if (context.DeviceId == deviceId && !connected)
            {
                gone.TrySetResult();
            }
        };
        return gone.Task;
    }

    private async Task<EventMessage> ReadUntilAsync(string deviceId, Func<EventMessage, bool> found)
        => (await ReadAllUntilAsync(deviceId, found)).Single(found);

    private async Task<List<EventMessage>> ReadAllUntilAsync(string deviceId, Func<EventMessage, bool> found)
    {
        using var api = ManagementApi.Connect(_broker);
        return await api.ReadAsync(new ReadEventsRequest { Start = StartPosition.Start, DeviceId = deviceId }, events => events.Count > 0 && found(events[^1]), Bound);
    }
}
