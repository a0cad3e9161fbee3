using Broker.Host.Tests.Support;
using Broker.Protocols.Mqtt.Codec;
using Microsoft.Extensions.Time.Testing;
using MQTTnet;
using MQTTnet.Protocol;

namespace Broker.IntegrationTests.Mqtt;

/// <summary>Keep-alive, CONNECT deadline and token expiry, driven by fake time; malformed input closes only its connection.</summary>
public sealed class MqttDeadlineTests : IAsyncLifetime
{
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(30);
    private readonly FakeTimeProvider _time = new(DateTimeOffset.UtcNow);
    private TestBroker _broker = null!;

    public async Task InitializeAsync() => _broker = await TestBroker.StartAsync(new TestBrokerOptions { Time = _time });

    public async Task DisposeAsync() => await _broker.DisposeAsync();

    [Fact]
    public async Task KeepAlive_NothingReceivedFor1Point5TimesTheInterval_ClosesTheConnection()
    {
        var device = await _broker.CreateDeviceAsync("quiet");
        await using var raw = await ConnectRawAsync(device.DeviceId, TestBroker.PrimaryKeyOf(device), keepAliveSeconds: 10);

        _time.Advance(TimeSpan.FromSeconds(14)); // within 15 s: still open
        await raw.SendAsync([0xC0, 0x00]); // PINGREQ resets the timer
        using (var bound = new CancellationTokenSource(Bound))
        {
            Assert.Equal(new byte[] { 0xD0, 0x00 }, await raw.ReadAsync(2, bound.Token));
        }

        _time.Advance(TimeSpan.FromSeconds(16));
        await raw.WaitForCloseAsync(Bound);
    }

    [Fact]
    public async Task Connect_NotSentWithinTheDeadline_ClosesTheConnection()
    {
        var monitor = (Broker.Protocols.Mqtt.Server.MqttConnectionMonitor)_broker.Services.GetService(typeof(Broker.Protocols.Mqtt.Server.MqttConnectionMonitor))!;
        var watched = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        monitor.Watching += _ => watched.TrySetResult();
        await using var raw = await RawMqttConnection.OpenAsync(_broker.MqttPort);
        await raw.SendAsync([0x10]); // the start of a CONNECT, never finished
        await watched.Task.WaitAsync(Bound); // the deadline runs from the accept: advance only once the broker has it
        _time.Advance(TimeSpan.FromSeconds(11));
        await raw.WaitForCloseAsync(Bound);
    }

    [Fact]
    public async Task SasToken_Expiring_DisconnectsTheDevice()
    {
        var device = await _broker.CreateDeviceAsync("short-token");
        var token = Broker.Core.Security.SasTokenBuilder.Create(
            Broker.Core.Security.SasTokenBuilder.ResourceFor(_broker.HostName, device.DeviceId), TestBroker.PrimaryKeyOf(device), _time.GetUtcNow().AddMinutes(2));
        await using var raw = await ConnectRawWithTokenAsync(device.DeviceId, token, keepAliveSeconds: 0);

        _time.Advance(TimeSpan.FromMinutes(1));
        await raw.SendAsync([0xC0, 0x00]);
        using (var bound = new CancellationTokenSource(Bound))
        {
            Assert.Equal(new byte[] { 0xD0, 0x00 }, await raw.ReadAsync(2, bound.Token)); // still connected before expiry
        }

        _time.Advance(TimeSpan.FromMinutes(1) + TimeSpan.FromSeconds(1));
        await raw.WaitForCloseAsync(Bound);
    }

    public static TheoryData<string, byte[]> MalformedFrames => new()
    {
        { "remaining length with a fifth continuation byte", [0x30, 0xFF, 0xFF, 0xFF, 0xFF, 0x01] },
        { "topic that is not UTF-8", [0x30, 0x05, 0x00, 0x02, 0xC3, 0x28, 0x78] },
        { "SUBSCRIBE with reserved flags 0000", [0x80, 0x06, 0x00, 0x01, 0x00, 0x01, 0x61, 0x00] },
        { "PUBLISH declaring more than the packet limit", [0x30, 0xFF, 0xFF, 0xFF, 0x7F] },
        { "reserved packet type 15", [0xF0, 0x00] },
    };

    [Theory]
    [MemberData(nameof(MalformedFrames))]
    public async Task MalformedPacket_ClosesOnlyThatConnection_OthersKeepBeingServed(string what, byte[] frame)
    {
        var bystander = await _broker.CreateDeviceAsync($"bystander-{what.GetHashCode():x}");
        using var client = new MqttClientFactory().CreateMqttClient();
        var options = DeviceMqtt.Options(_broker, bystander.DeviceId, _broker.CreateSasToken(bystander.DeviceId, TestBroker.PrimaryKeyOf(bystander)), tls: false);
        options.KeepAlivePeriod = TimeSpan.Zero;
        await client.ConnectAsync(options);

        var offender = await _broker.CreateDeviceAsync($"offender-{what.GetHashCode():x}");
        await using var raw = await ConnectRawAsync(offender.DeviceId, TestBroker.PrimaryKeyOf(offender), keepAliveSeconds: 0);
        await raw.SendAsync(frame);
        await raw.WaitForCloseAsync(Bound);

        var result = await client.PublishAsync(new MqttApplicationMessageBuilder()
            .WithTopic($"devices/{bystander.DeviceId}/messages/events/")
            .WithPayload("still here")
            .WithQualityOfServiceLevel(MqttQualityOfServiceLevel.AtLeastOnce)
            .Build());
        Assert.True(result.IsSuccess, what);
    }

    private Task<RawMqttConnection> ConnectRawAsync(string deviceId, string key, ushort keepAliveSeconds)
        => ConnectRawWithTokenAsync(deviceId, Broker.Core.Security.SasTokenBuilder.Create(
            Broker.Core.Security.SasTokenBuilder.ResourceFor(_broker.HostName, deviceId), key, _time.GetUtcNow().AddHours(1)), keepAliveSeconds);

    private Task<RawMqttConnection> ConnectRawWithTokenAsync(string deviceId, string token, ushort keepAliveSeconds)
        => RawMqttConnection.ConnectAcceptedAsync(_broker.MqttPort, deviceId, _broker.MqttUserName(deviceId), token, Bound, keepAliveSeconds);
}
