using System.Net;
using System.Net.Security;
using System.Net.WebSockets;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using Broker.Core.CloudToDevice;
using Broker.Core.Registry;
using Broker.Host.Tests.Support;
using Broker.IntegrationTests.Amqp;
using Broker.IntegrationTests.Support;
using Broker.Management.V1;
using Microsoft.Extensions.DependencyInjection;
using MQTTnet;
using MQTTnet.Formatter;
using MQTTnet.Protocol;

namespace Broker.IntegrationTests.WebSockets;

/// <summary>
/// IoT Hub's WebSocket endpoint (<c>wss://{host}/$iothub/websocket</c>) on the HTTPS listener: MQTT with MQTTnet's
/// WebSocket transport (SAS and X.509), AMQP's subprotocol reaching the AMQP engine, and what the endpoint refuses.
/// </summary>
public sealed class IotHubWebSocketTests(BrokerHostFixture fixture) : IClassFixture<BrokerHostFixture>
{
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(30);
    private readonly TestBroker _broker = fixture.Broker;

    [Fact]
    public async Task Mqtt_OverWebSocket_SasDevice_SendsTelemetryAndReceivesCloudToDevice()
    {
        var device = await _broker.CreateDeviceAsync("ws-mqtt-sas");
        using var client = new MqttClientFactory().CreateMqttClient();
        var received = new TaskCompletionSource<MqttApplicationMessage>(TaskCreationOptions.RunContinuationsAsynchronously);
        client.ApplicationMessageReceivedAsync += args =>
        {
            received.TrySetResult(args.ApplicationMessage);
            return Task.CompletedTask;
        };
        using var bound = new CancellationTokenSource(Bound);
        var connected = await client.ConnectAsync(WebSocketOptions(device.DeviceId, _broker.CreateSasToken(device.DeviceId, TestBroker.PrimaryKeyOf(device))), bound.Token);
        Assert.Equal(MqttClientConnectResultCode.Success, connected.ResultCode);

        var published = await client.PublishAsync(new MqttApplicationMessageBuilder()
            .WithTopic($"devices/{device.DeviceId}/messages/events/over=websocket")
            .WithPayload("{\"t\":1}")
            .WithQualityOfServiceLevel(MqttQualityOfServiceLevel.AtLeastOnce)
            .Build(), bound.Token);
        Assert.True(published.IsSuccess);

        await client.SubscribeAsync(new MqttClientSubscribeOptionsBuilder()
            .WithTopicFilter($"devices/{device.DeviceId}/messages/devicebound/#", MqttQualityOfServiceLevel.AtLeastOnce).Build(), bound.Token);
        await _broker.Services.GetRequiredService<Broker.Core.CloudToDevice.CloudToDeviceService>().SendAsync(device.DeviceId,
            new CloudToDeviceRequest { Body = "down the websocket"u8.ToArray(), MessageId = "ws-1" });
        var message = await received.Task.WaitAsync(Bound);
        Assert.Equal("down the websocket", Encoding.UTF8.GetString(message.Payload));
        Assert.StartsWith($"devices/{device.DeviceId}/messages/devicebound/", message.Topic, StringComparison.Ordinal);

        using var api = ManagementApi.Connect(_broker);
        var events = await api.ReadCountAsync(new ReadEventsRequest { Start = StartPosition.Start, DeviceId = device.DeviceId }, 1, Bound);
        Assert.Equal("{\"t\":1}", events[0].Body.ToStringUtf8());
        Assert.Equal("websocket", events[0].Properties["over"]);
        await client.DisconnectAsync(cancellationToken: bound.Token);
    }

    [Fact]
    public async Task Mqtt_OverWebSocket_X509Device_AuthenticatesWithItsClientCertificate()
    {
        const string deviceId = "ws-mqtt-x509";
        using var certificate = AmqpDeviceLinkTests.SelfSignedClientCertificate(deviceId);
        await X509Devices.RegisterAsync(_broker, deviceId, certificate);

        using var client = new MqttClientFactory().CreateMqttClient();
        using var bound = new CancellationTokenSource(Bound);
        var connected = await client.ConnectAsync(WebSocketOptions(deviceId, password: null, certificate), bound.Token);
        Assert.Equal(MqttClientConnectResultCode.Success, connected.ResultCode);

        using var stranger = AmqpDeviceLinkTests.SelfSignedClientCertificate(deviceId);
        using var refusedClient = new MqttClientFactory().CreateMqttClient();
        var refused = await refusedClient.ConnectAsync(WebSocketOptions(deviceId, password: null, stranger), bound.Token);
        Assert.Equal(MqttClientConnectResultCode.NotAuthorized, refused.ResultCode);
        await client.DisconnectAsync(cancellationToken: bound.Token);
    }

    [Fact]
    public async Task Amqp_OverWebSocket_TheAmqpEngineAnswersTheProtocolHeader()
    {
        using var socket = new ClientWebSocket();
        socket.Options.AddSubProtocol("AMQPWSB10");
        socket.Options.RemoteCertificateValidationCallback = Trusted;
        using var bound = new CancellationTokenSource(Bound);
        await socket.ConnectAsync(EndpointUri(), bound.Token);
        Assert.Equal("AMQPWSB10", socket.SubProtocol);

        byte[] header = [(byte)'A', (byte)'M', (byte)'Q', (byte)'P', 0, 1, 0, 0]; // AMQP 1.0 without SASL, as the C# SDK sends it
        await socket.SendAsync(header, WebSocketMessageType.Binary, endOfMessage: true, bound.Token);
        var answer = new byte[8];
        int read = 0;
        while (read < answer.Length)
        {
            var result = await socket.ReceiveAsync(answer.AsMemory(read), bound.Token);
            Assert.NotEqual(WebSocketMessageType.Close, result.MessageType);
            read += result.Count;
        }

        Assert.Equal(header, answer);
    }

    [Theory]
    [InlineData(null)]
    [InlineData("stomp")]
    public async Task Endpoint_WithoutAnMqttOrAmqpUpgrade_Answers400(string? subProtocol)
    {
        if (subProtocol is null)
        {
            using var http = HubHttps.Client(_broker, null);
            var response = await http.GetAsync(EndpointUri(Uri.UriSchemeHttps));
            Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
            Assert.Contains("WebSocket", await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
            return;
        }

        using var socket = new ClientWebSocket();
        socket.Options.AddSubProtocol(subProtocol);
        socket.Options.RemoteCertificateValidationCallback = Trusted;
        socket.Options.CollectHttpResponseDetails = true;
        using var bound = new CancellationTokenSource(Bound);
        await Assert.ThrowsAsync<WebSocketException>(() => socket.ConnectAsync(EndpointUri(), bound.Token));
        Assert.Equal(HttpStatusCode.BadRequest, socket.HttpStatusCode);
    }

    [Fact]
    public async Task ManagementApi_IsNotServedOnTheHttpsListener()
    {
        using var http = HubHttps.Client(_broker, null);
        var response = await http.PostAsync(new Uri($"https://127.0.0.1:{_broker.HttpsPort}/broker.management.v1.RegistryService/ListDevices"), new ByteArrayContent([]));
        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
    }

    private Uri EndpointUri(string scheme = "wss") => new($"{scheme}://127.0.0.1:{_broker.HttpsPort}/$iothub/websocket");

    private MqttClientOptions WebSocketOptions(string deviceId, string? password, X509Certificate2? clientCertificate = null)
    {
        var authority = _broker.LoadCertificateAuthority();
        return new MqttClientOptionsBuilder()
            .WithWebSocketServer(o => o.WithUri(EndpointUri().AbsoluteUri))
            .WithTlsOptions(o =>
            {
                o.UseTls().WithCertificateValidationHandler(args => TlsHandshake.IsTrusted(args.Certificate, args.SslPolicyErrors, authority));
                if (clientCertificate is not null)
                {
                    o.WithClientCertificates([clientCertificate]);
                }
            })
            .WithProtocolVersion(MqttProtocolVersion.V311)
            .WithClientId(deviceId)
            .WithCredentials(_broker.MqttUserName(deviceId), password)
            .WithTimeout(Bound)
            .Build();
    }

    private bool Trusted(object sender, X509Certificate? certificate, X509Chain? chain, SslPolicyErrors errors)
        => TlsHandshake.IsTrusted(certificate, errors, _broker.LoadCertificateAuthority());
}
