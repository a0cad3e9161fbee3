using System.Threading.Channels;
using Broker.Host.Tests.Support;
using MQTTnet;
using MQTTnet.Protocol;

namespace Broker.IntegrationTests.Support;

/// <summary>
/// An MQTTnet device connected to a test broker whose received publishes queue up for the test to take in
/// order. With <c>autoAcknowledge: false</c> a QoS 1 publish is acknowledged only when the test says so.
/// </summary>
internal sealed class TestDevice : IAsyncDisposable
{
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(30);
    private readonly Channel<MqttApplicationMessageReceivedEventArgs> _received = Channel.CreateUnbounded<MqttApplicationMessageReceivedEventArgs>();

    private TestDevice(IMqttClient client, string deviceId)
    {
        Client = client;
        DeviceId = deviceId;
    }

    public IMqttClient Client { get; }

    public string DeviceId { get; }

    public bool SessionPresent { get; private set; }

    public static async Task<TestDevice> ConnectAsync(TestBroker broker, string deviceId, string key, bool cleanSession = true, bool autoAcknowledge = true)
    {
        var client = new MqttClientFactory().CreateMqttClient();
        var device = new TestDevice(client, deviceId);
        client.ApplicationMessageReceivedAsync += args =>
        {
            args.AutoAcknowledge = autoAcknowledge;
            device._received.Writer.TryWrite(args);
            return Task.CompletedTask;
        };
        var options = DeviceMqtt.Options(broker, deviceId, broker.CreateSasToken(deviceId, key), tls: false);
        options.CleanSession = cleanSession;
        // No keep-alive: tests that move the broker's fake clock by minutes must not have the device timed out.
        options.KeepAlivePeriod = TimeSpan.Zero;
        using var bound = new CancellationTokenSource(Bound);
        var result = await client.ConnectAsync(options, bound.Token);
        Assert.Equal(MqttClientConnectResultCode.Success, result.ResultCode);
        device.SessionPresent = result.IsSessionPresent;
        return device;
    }

    public async Task SubscribeAsync(string filter, MqttQualityOfServiceLevel qos = MqttQualityOfServiceLevel.AtLeastOnce)
    {
        using var bound = new CancellationTokenSource(Bound);
        var result = await Client.SubscribeAsync(new MqttClientSubscribeOptionsBuilder().WithTopicFilter(filter, qos).Build(), bound.Token);
        Assert.True((int)result.Items.Single().ResultCode <= 1, $"SUBSCRIBE {filter} refused: {result.Items.Single().ResultCode}");
    }

    public Task SubscribeCloudToDeviceAsync() => SubscribeAsync($"devices/{DeviceId}/messages/devicebound/#");

    /// <summary>The next publish the broker sent, failing after 30 s instead of hanging.</summary>
    public async Task<MqttApplicationMessageReceivedEventArgs> ReceiveAsync()
    {
        using var bound = new CancellationTokenSource(Bound);
        return await _received.Reader.ReadAsync(bound.Token);
    }

    /// <summary>True if a publish is already waiting (used after something that must have been sent before it).</summary>
    public bool TryReceive(out MqttApplicationMessageReceivedEventArgs? received) => _received.Reader.TryRead(out received);

    public async Task PublishAsync(string topic, string payload, MqttQualityOfServiceLevel qos = MqttQualityOfServiceLevel.AtMostOnce)
    {
        using var bound = new CancellationTokenSource(Bound);
        await Client.PublishAsync(new MqttApplicationMessageBuilder().WithTopic(topic).WithPayload(payload).WithQualityOfServiceLevel(qos).Build(), bound.Token);
    }

    /// <summary>Drops the TCP connection without DISCONNECT, as a crashing device would.</summary>
    public void Abort() => Client.Dispose();

    public async ValueTask DisposeAsync()
    {
        if (Client.IsConnected)
        {
            using var bound = new CancellationTokenSource(Bound);
            await Client.DisconnectAsync(new MqttClientDisconnectOptions(), bound.Token);
        }

        Client.Dispose();
    }
}
