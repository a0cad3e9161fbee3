using System.Text;
using Broker.Core.Registry;
using Broker.Host.Tests.Support;
using Broker.Protocols.Mqtt.Codec;
using MQTTnet;
using MQTTnet.Protocol;

namespace Broker.IntegrationTests.Mqtt;

/// <summary>IoT Hub's CONNECT, takeover and topic rules against the real broker, with MQTTnet as the device.</summary>
public sealed class MqttDialectTests(BrokerHostFixture fixture) : IClassFixture<BrokerHostFixture>
{
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(30);
    private readonly TestBroker _broker = fixture.Broker;

    [Fact]
    public async Task Connect_ExpiredToken_IsRefusedNotAuthorized()
    {
        var device = await _broker.CreateDeviceAsync("expired-token");
        var token = _broker.CreateSasToken(device.DeviceId, TestBroker.PrimaryKeyOf(device), TimeSpan.FromMinutes(-10)); // past the 5-minute skew
        Assert.Equal(MqttClientConnectResultCode.NotAuthorized, await ConnectResultAsync(device.DeviceId, token));
    }

    [Fact]
    public async Task Connect_AnotherDevicesToken_IsRefusedNotAuthorized()
    {
        var victim = await _broker.CreateDeviceAsync("victim");
        await _broker.CreateDeviceAsync("intruder");
        var victimsToken = _broker.CreateSasToken(victim.DeviceId, TestBroker.PrimaryKeyOf(victim));
        Assert.Equal(MqttClientConnectResultCode.NotAuthorized, await ConnectResultAsync("intruder", victimsToken));
    }

    [Fact]
    public async Task Connect_DisabledDevice_IsRefusedNotAuthorized()
    {
        var device = await _broker.CreateDeviceAsync("disabled-at-connect");
        var disabled = await _broker.Registry.UpdateDeviceAsync(device with { Status = DeviceStatus.Disabled }, "*");
        var token = _broker.CreateSasToken(device.DeviceId, TestBroker.PrimaryKeyOf(disabled));
        Assert.Equal(MqttClientConnectResultCode.NotAuthorized, await ConnectResultAsync(device.DeviceId, token));
    }

    [Fact]
    public async Task Connect_UnknownDevice_IsRefusedNotAuthorized()
    {
        var token = _broker.CreateSasToken("never-registered", Convert.ToBase64String(new byte[32]));
        Assert.Equal(MqttClientConnectResultCode.NotAuthorized, await ConnectResultAsync("never-registered", token));
    }

    [Fact]
    public async Task Connect_ClientIdNotMatchingUserName_IsRefusedIdentifierRejected()
    {
        var device = await _broker.CreateDeviceAsync("mismatch");
        var token = _broker.CreateSasToken(device.DeviceId, TestBroker.PrimaryKeyOf(device));
        var options = DeviceMqtt.Options(_broker, device.DeviceId, token, tls: false);
        options.ClientId = "someone-else";
        using var client = new MqttClientFactory().CreateMqttClient();
        var result = await client.ConnectAsync(options);
        Assert.Equal(MqttClientConnectResultCode.ClientIdentifierNotValid, result.ResultCode);
    }

    [Fact]
    public async Task Connect_PolicyTokenWithDeviceConnect_IsAccepted()
    {
        var device = await _broker.CreateDeviceAsync("policy-token");
        var policies = _broker.Services.GetService(typeof(Broker.Core.Security.SharedAccessPolicies)) as Broker.Core.Security.SharedAccessPolicies;
        var policy = policies!.Find("device")!;
        var token = Broker.Core.Security.SasTokenBuilder.Create(
            Broker.Core.Security.SasTokenBuilder.ResourceFor(_broker.HostName, device.DeviceId), policy.PrimaryKey, DateTimeOffset.UtcNow.AddHours(1), "device");
        Assert.Equal(MqttClientConnectResultCode.Success, await ConnectResultAsync(device.DeviceId, token));
    }

    [Fact]
    public async Task Connect_SecondConnectionOfSameDevice_TakesOverAndClosesTheFirst()
    {
        var device = await _broker.CreateDeviceAsync("taken-over");
        var token = _broker.CreateSasToken(device.DeviceId, TestBroker.PrimaryKeyOf(device));
        using var first = new MqttClientFactory().CreateMqttClient();
        var firstClosed = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        first.DisconnectedAsync += _ => { firstClosed.TrySetResult(); return Task.CompletedTask; };
        Assert.Equal(MqttClientConnectResultCode.Success, (await first.ConnectAsync(DeviceMqtt.Options(_broker, device.DeviceId, token, tls: false))).ResultCode);

        using var second = new MqttClientFactory().CreateMqttClient();
        Assert.Equal(MqttClientConnectResultCode.Success, (await second.ConnectAsync(DeviceMqtt.Options(_broker, device.DeviceId, token, tls: false))).ResultCode);

        await firstClosed.Task.WaitAsync(Bound);
        Assert.True(second.IsConnected);
        await second.PingAsync();
    }

    [Fact]
    public async Task UpdateDevice_DisablingAConnectedDevice_ClosesItsConnection()
    {
        var device = await _broker.CreateDeviceAsync("disabled-while-connected");
        var token = _broker.CreateSasToken(device.DeviceId, TestBroker.PrimaryKeyOf(device));
        using var client = new MqttClientFactory().CreateMqttClient();
        var closed = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        client.DisconnectedAsync += _ => { closed.TrySetResult(); return Task.CompletedTask; };
        await client.ConnectAsync(DeviceMqtt.Options(_broker, device.DeviceId, token, tls: false));

        await _broker.Registry.UpdateDeviceAsync(device with { Status = DeviceStatus.Disabled }, "*");

        await closed.Task.WaitAsync(Bound);
    }

    [Fact]
    public async Task Publish_TelemetryAtQos1_IsAcknowledgedOnceDurableAndStoredInTheDevicesPartition()
    {
        var device = await _broker.CreateDeviceAsync("telemetry-qos1");
        var token = _broker.CreateSasToken(device.DeviceId, TestBroker.PrimaryKeyOf(device));
        using var client = new MqttClientFactory().CreateMqttClient();
        await client.ConnectAsync(DeviceMqtt.Options(_broker, device.DeviceId, token, tls: false));
        var events = ((Broker.Core.Storage.IHubStore)_broker.Services.GetService(typeof(Broker.Core.Storage.IHubStore))!).GetPartitionFor(device.DeviceId).Events;
        long before = events.NextSequenceNumber;

        var result = await client.PublishAsync(new MqttApplicationMessageBuilder()
            .WithTopic($"devices/{device.DeviceId}/messages/events/%24.ct=application%2Fjson&k=v")
            .WithPayload("{\"t\":21}")
            .WithQualityOfServiceLevel(MqttQualityOfServiceLevel.AtLeastOnce)
            .Build());

        Assert.True(result.IsSuccess);
        Assert.True(events.NextSequenceNumber > before);
        // A reader sees only committed events, so finding it right after the PUBACK proves the ack followed the commit.
        using var reader = events.OpenReader(events.BeginOffset);
        var visitor = new FindPayload("{\"t\":21}", device.DeviceId);
        while (reader.Read(visitor, 1024) > 0)
        {
        }

        Assert.True(visitor.Found, "the acknowledged event is not among the durable events");
        await client.DisconnectAsync();
    }

    [Fact]
    public async Task DeviceShow_WhileConnectedAndAfter_ReportsConnectionStateAsIotHubDoes()
    {
        var device = await _broker.CreateDeviceAsync("connection-state");
        var token = _broker.CreateSasToken(device.DeviceId, TestBroker.PrimaryKeyOf(device));
        var connections = (Broker.Core.Hub.ConnectionRegistry)_broker.Services.GetService(typeof(Broker.Core.Hub.ConnectionRegistry))!;
        Assert.False(connections.ConnectionStateOf(device.DeviceId, null).Connected);
        using var client = new MqttClientFactory().CreateMqttClient();
        await client.ConnectAsync(DeviceMqtt.Options(_broker, device.DeviceId, token, tls: false));

        var (connected, since) = connections.ConnectionStateOf(device.DeviceId, null);
        Assert.True(connected);
        Assert.NotNull(since);

        var unregistered = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        connections.ConnectionChanged += (context, isConnected) =>
        {
            if (context.DeviceId == device.DeviceId && !isConnected)
            {
                unregistered.TrySetResult();
            }
        };
        await client.DisconnectAsync();
        await unregistered.Task.WaitAsync(Bound);

        var after = connections.ConnectionStateOf(device.DeviceId, null);
        Assert.False(after.Connected);
        Assert.True(after.Since >= since);
    }

    [Theory]
    [InlineData("devices/someone-else/messages/events/")]
    [InlineData("not/an/iothub/topic")]
    public async Task Publish_OutsideOwnGrammar_ClosesTheConnection(string topic)
    {
        var device = await _broker.CreateDeviceAsync($"bad-publish-{topic.Length}");
        var token = _broker.CreateSasToken(device.DeviceId, TestBroker.PrimaryKeyOf(device));
        await using var raw = await ConnectRawAsync(device.DeviceId, token);
        await raw.SendAsync(RawMqttConnection.Publish(topic, "x"u8.ToArray(), MqttQualityOfService.AtLeastOnce));
        await raw.WaitForCloseAsync(Bound);
    }

    [Fact]
    public async Task Publish_Qos2_ClosesTheConnection()
    {
        var device = await _broker.CreateDeviceAsync("qos2");
        var token = _broker.CreateSasToken(device.DeviceId, TestBroker.PrimaryKeyOf(device));
        await using var raw = await ConnectRawAsync(device.DeviceId, token);
        await raw.SendAsync(RawMqttConnection.Publish($"devices/{device.DeviceId}/messages/events/", "x"u8.ToArray(), MqttQualityOfService.ExactlyOnce));
        await raw.WaitForCloseAsync(Bound);
    }

    [Fact]
    public async Task Publish_MessageOver256KB_ClosesTheConnection()
    {
        var device = await _broker.CreateDeviceAsync("oversize-message");
        var token = _broker.CreateSasToken(device.DeviceId, TestBroker.PrimaryKeyOf(device));
        await using var raw = await ConnectRawAsync(device.DeviceId, token);
        await raw.SendAsync(RawMqttConnection.Publish($"devices/{device.DeviceId}/messages/events/", new byte[256 * 1024 + 1], MqttQualityOfService.AtLeastOnce));
        await raw.WaitForCloseAsync(Bound);
    }

    [Fact]
    public async Task Subscribe_OutsideGrammar_ClosesTheConnection()
    {
        var device = await _broker.CreateDeviceAsync("bad-subscribe");
        var token = _broker.CreateSasToken(device.DeviceId, TestBroker.PrimaryKeyOf(device));
        using var client = new MqttClientFactory().CreateMqttClient();
        var closed = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        client.DisconnectedAsync += _ => { closed.TrySetResult(); return Task.CompletedTask; };
        await client.ConnectAsync(DeviceMqtt.Options(_broker, device.DeviceId, token, tls: false));
        var good = await client.SubscribeAsync($"devices/{device.DeviceId}/messages/devicebound/#", MqttQualityOfServiceLevel.AtLeastOnce);
        Assert.Equal(MqttClientSubscribeResultCode.GrantedQoS1, good.Items.Single().ResultCode);

        _ = client.SubscribeAsync("devices/+/messages/devicebound/#", MqttQualityOfServiceLevel.AtLeastOnce);

        await closed.Task.WaitAsync(Bound);
    }

    private async Task<MqttClientConnectResultCode> ConnectResultAsync(string deviceId, string token)
    {
        using var client = new MqttClientFactory().CreateMqttClient();
        var result = await client.ConnectAsync(DeviceMqtt.Options(_broker, deviceId, token, tls: false));
        return result.ResultCode;
    }

    private Task<RawMqttConnection> ConnectRawAsync(string deviceId, string token)
        => RawMqttConnection.ConnectAcceptedAsync(_broker.MqttPort, deviceId, _broker.MqttUserName(deviceId), token, Bound);

    private sealed class FindPayload(string payload, string deviceId) : Broker.Core.Storage.ITelemetryVisitor
    {
        public bool Found { get; private set; }

        public bool Visit(in Broker.Core.Storage.TelemetryEvent telemetryEvent)
        {
            if (Broker.Core.Telemetry.TelemetryEventCodec.TryRead(telemetryEvent.Body, out var view)
                && Encoding.UTF8.GetString(view.DeviceId) == deviceId
                && Encoding.UTF8.GetString(view.Payload) == payload
                && Encoding.UTF8.GetString(view.PropertyBag) == "%24.ct=application%2Fjson&k=v")
            {
                Found = true;
            }

            return true;
        }
    }
}
