using System.Text;
using Broker.Host.Tests.Support;
using Broker.IntegrationTests.Support;
using Broker.Management.V1;
using Microsoft.Azure.Amqp;
using Microsoft.Azure.Amqp.Framing;
using Microsoft.Azure.Amqp.Transport;
using Xunit.Abstractions;

namespace Broker.IntegrationTests.Amqp;

/// <summary>Issue #7: the broker driven by Microsoft.Azure.Amqp, the library behind the official C# IoT SDKs.</summary>
public sealed class AzureAmqpTests(ITestOutputHelper output) : IAsyncLifetime
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(20);
    private TestBroker _broker = null!;
    private ManagementApi _api = null!;

    public async Task InitializeAsync()
    {
        _broker = await TestBroker.StartAsync(new TestBrokerOptions { Output = output });
        _api = ManagementApi.Connect(_broker);
    }

    public async Task DisposeAsync()
    {
        _api.Dispose();
        await _broker.DisposeAsync();
    }

    [Fact]
    public async Task NoSaslCbsBatchedTelemetryAndCloudToDevice_AsTheCSharpSdkDoesIt()
    {
        var device = await _broker.CreateDeviceAsync("azure-amqp");
        string key = TestBroker.PrimaryKeyOf(device);

        // The C# SDK's way in: the AMQP header without SASL, then CBS.
        var settings = new AmqpSettings();
        var provider = new AmqpTransportProvider();
        provider.Versions.Add(new AmqpVersion(1, 0, 0));
        settings.TransportProviders.Add(provider);
        var initiator = new AmqpTransportInitiator(settings, new TcpTransportSettings { Host = "127.0.0.1", Port = _broker.AmqpPort });
        var transport = await initiator.ConnectTaskAsync(Timeout);
        var connection = new AmqpConnection(transport, settings, new AmqpConnectionSettings { ContainerId = Guid.NewGuid().ToString(), HostName = _broker.HostName });
        await connection.OpenAsync(Timeout);
        try
        {
            var cbs = new AmqpCbsLink(connection);
            string audience = $"{_broker.HostName}/devices/{device.DeviceId}";
            var expiresAt = await cbs.SendTokenAsync(new TokenProvider(_broker.CreateSasToken(device.DeviceId, key)),
                new Uri($"amqps://{_broker.HostName}"), audience, audience, ["DeviceConnect"], Timeout);
            Assert.True(expiresAt > DateTime.UtcNow);

            var session = connection.CreateSession(new AmqpSessionSettings());
            await session.OpenAsync(Timeout);

            var senderSettings = new AmqpLinkSettings
            {
                LinkName = "events-" + Guid.NewGuid(),
                Role = false,
                Source = new Source(),
                Target = new Target { Address = $"/devices/{device.DeviceId}/messages/events" },
            };
            var sender = new SendingAmqpLink(senderSettings);
            sender.AttachTo(session);
            await sender.OpenAsync(Timeout);

            // A batch (format 0x80013700): each data section one whole encoded message.
            var sections = new List<Data>();
            foreach (var text in new[] { "one", "two", "three" })
            {
                using var inner = AmqpMessage.Create(new Data { Value = new ArraySegment<byte>(Encoding.UTF8.GetBytes(text)) });
                inner.Properties.MessageId = text;
                inner.ApplicationProperties.Map["n"] = text;
                sections.Add(new Data { Value = new ArraySegment<byte>(Encode(inner)) });
            }

            using var batch = AmqpMessage.Create(sections);
            batch.MessageFormat = AmqpConstants.AmqpBatchedMessageFormat;
            var outcome = await sender.SendMessageAsync(batch, new ArraySegment<byte>(Guid.NewGuid().ToByteArray()), AmqpConstants.NullBinary, Timeout);
            Assert.Equal(Accepted.Code, outcome.DescriptorCode);

            var events = await _api.ReadAsync(new ReadEventsRequest { DeviceId = device.DeviceId, Start = StartPosition.Start }, e => e.Count == 3, Timeout);
            Assert.Equal(["one", "two", "three"], events.Select(e => e.MessageId));
            Assert.Equal(["one", "two", "three"], events.Select(e => e.Properties["n"]));

            // Cloud-to-device: the C# SDK reads the delivery tag as the lock token GUID.
            var cloudToDevice = _broker.Services.GetService(typeof(Broker.Core.CloudToDevice.CloudToDeviceService)) as Broker.Core.CloudToDevice.CloudToDeviceService;
            await cloudToDevice!.SendAsync(device.DeviceId, new Broker.Core.CloudToDevice.CloudToDeviceRequest { Body = "to the device"u8.ToArray(), MessageId = "c2d-1" });
            var receiverSettings = new AmqpLinkSettings
            {
                LinkName = "c2d-" + Guid.NewGuid(),
                Role = true,
                Source = new Source { Address = $"/devices/{device.DeviceId}/messages/deviceBound" },
                Target = new Target(),
                TotalLinkCredit = 1,
                AutoSendFlow = true,
                SettleType = SettleMode.SettleOnDispose,
            };
            var receiver = new ReceivingAmqpLink(receiverSettings);
            receiver.AttachTo(session);
            await receiver.OpenAsync(Timeout);
            using var received = await receiver.ReceiveMessageAsync(Timeout);
            Assert.NotNull(received);
            Assert.Equal("c2d-1", received.Properties.MessageId.ToString());
            var lockToken = new Guid(received.DeliveryTag.Array!.AsSpan(received.DeliveryTag.Offset, received.DeliveryTag.Count));
            Assert.Equal(lockToken.ToString(), received.MessageAnnotations.Map["x-opt-lock-token"]?.ToString());
            var body = Assert.Single(received.DataBody);
            var payload = (ArraySegment<byte>)body.Value;
            Assert.Equal("to the device", Encoding.UTF8.GetString(payload.Array!, payload.Offset, payload.Count));
            receiver.AcceptMessage(received, batchable: false);
            await receiver.CloseAsync(Timeout);
            await sender.CloseAsync(Timeout);
        }
        finally
        {
            await connection.CloseAsync(Timeout);
        }
    }

    private static byte[] Encode(AmqpMessage message)
    {
        using var stream = message.ToStream();
        using var copy = new MemoryStream();
        stream.CopyTo(copy);
        return copy.ToArray();
    }

    private sealed class TokenProvider(string token) : ICbsTokenProvider
    {
        public Task<CbsToken> GetTokenAsync(Uri namespaceAddress, string appliesTo, string[] requiredClaims)
            => Task.FromResult(new CbsToken(token, "servicebus.windows.net:sastoken", DateTime.UtcNow.AddHours(1)));
    }
}
