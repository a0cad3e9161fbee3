using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using System.Text.Json;
using Amqp;
using Amqp.Framing;
using Amqp.Types;
using Broker.Core.CloudToDevice;
using Broker.Core.Methods;
using Broker.Core.Registry;
using Broker.Host.Tests.Support;
using Broker.IntegrationTests.Support;
using Broker.Management.V1;
using Microsoft.Extensions.DependencyInjection;
using MQTTnet.Protocol;
using Xunit.Abstractions;
using static Broker.IntegrationTests.Amqp.AmqpClient;

namespace Broker.IntegrationTests.Amqp;

/// <summary>Issue #7: IoT Hub's AMQP device and service links, driven with AMQPNetLite against a real broker.</summary>
public sealed class AmqpDeviceLinkTests(ITestOutputHelper output) : IAsyncLifetime
{
    private TestBroker _broker = null!;
    private ManagementApi _api = null!;

    public async Task InitializeAsync()
    {
        _broker = await TestBroker.StartAsync(new TestBrokerOptions
        {
            Output = output,
            // Feedback in batches of one, so a test sees it at once; three deliveries at most, so a test can
            // abandon a message until it is dead-lettered.
            Settings = new Dictionary<string, string?>
            {
                ["CloudToDevice:FeedbackBatchSize"] = "1",
                ["CloudToDevice:MaxDeliveryCount"] = "3",
            },
        });
        _api = ManagementApi.Connect(_broker);
    }

    public async Task DisposeAsync()
    {
        _api.Dispose();
        await _broker.DisposeAsync();
    }

    [Fact]
    public async Task Telemetry_NoSaslWithCbs_ReadsBackWithTheSamePropertiesAsOverMqtt()
    {
        var device = await _broker.CreateDeviceAsync("amqp-telemetry");
        string key = TestBroker.PrimaryKeyOf(device);

        // The same message over MQTT...
        await using (var mqtt = await TestDevice.ConnectAsync(_broker, device.DeviceId, key))
        {
            await mqtt.PublishAsync($"devices/{device.DeviceId}/messages/events/$.mid=m1&$.cid=c1&$.ct=application%2Fjson&$.ce=utf-8&color=red&with%20space=a%20b",
                """{"t":21}""", MqttQualityOfServiceLevel.AtLeastOnce);
        }

        // ...and over AMQP, without SASL, authenticated by CBS.
        var connection = await ConnectAsync(_broker, Auth.NoSasl);
        try
        {
            var session = new Session(connection);
            var messageId = Guid.NewGuid();
            var (status, correlationId, _) = await PutTokenAsync(session, DeviceAudience(_broker, device.DeviceId), _broker.CreateSasToken(device.DeviceId, key), messageId);
            Assert.Equal(200, status);
            Assert.Equal(messageId, Assert.IsType<Guid>(correlationId)); // echoed with its AMQP type (uuid)

            var sender = await AttachSenderAsync(session, "events", $"/devices/{device.DeviceId}/messages/events");
            var message = new Message { BodySection = new Data { Binary = Encoding.UTF8.GetBytes("""{"t":21}""") } };
            message.Properties = new Properties { MessageId = "m1", CorrelationId = "c1", ContentType = "application/json", ContentEncoding = "utf-8" };
            message.ApplicationProperties = new ApplicationProperties();
            message.ApplicationProperties["color"] = "red";
            message.ApplicationProperties["with space"] = "a b";
            await sender.SendAsync(message); // returns once accepted, which is after the append is durable
        }
        finally
        {
            await connection.CloseAsync();
        }

        var events = await _api.ReadAsync(new ReadEventsRequest { DeviceId = device.DeviceId, Start = StartPosition.Start }, e => e.Count == 2, Bound);
        var (overMqtt, overAmqp) = (events[0], events[1]);
        Assert.Equal(overMqtt.Body, overAmqp.Body);
        Assert.Equal("m1", overAmqp.MessageId);
        Assert.Equal("c1", overAmqp.CorrelationId);
        Assert.Equal("application/json", overAmqp.ContentType);
        Assert.Equal("utf-8", overAmqp.ContentEncoding);
        Assert.Equal(overMqtt.Properties, overAmqp.Properties);
        Assert.Equal("a b", overAmqp.Properties["with space"]);
        foreach (var name in new[] { "iothub-connection-device-id", "iothub-connection-auth-method", "iothub-connection-auth-generation-id", "message-id", "correlation-id", "content-type", "content-encoding" })
        {
            Assert.Equal(overMqtt.SystemProperties[name], overAmqp.SystemProperties[name]);
        }
    }

    [Fact]
    public async Task Telemetry_SaslPlainAndABatch_StoresEachInnerMessage()
    {
        var device = await _broker.CreateDeviceAsync("amqp-plain");
        var connection = await ConnectAsync(_broker, Auth.Plain, $"{device.DeviceId}@sas.{_broker.HostName.Split('.')[0]}",
            _broker.CreateSasToken(device.DeviceId, TestBroker.PrimaryKeyOf(device)));
        try
        {
            var session = new Session(connection);
            var sender = await AttachSenderAsync(session, "events", $"amqps://{_broker.HostName}:5671/DEVICES/{device.DeviceId}/Messages/Events");
            await sender.SendAsync(new Message { BodySection = new Data { Binary = "single"u8.ToArray() }, Properties = new Properties { MessageId = "s" } });

            // Format 0x80013700: each data section is one whole encoded message (AMQPNetLite writes one body section).
            var inner = new Message { BodySection = new Data { Binary = "one"u8.ToArray() }, Properties = new Properties { MessageId = "one" } };
            var batch = new Message { Format = 0x80013700, BodySection = new Data { Binary = inner.Encode().Buffer.AsSpan(0, inner.Encode().Length).ToArray() } };
            await sender.SendAsync(batch);
        }
        finally
        {
            await connection.CloseAsync();
        }

        var events = await _api.ReadAsync(new ReadEventsRequest { DeviceId = device.DeviceId, Start = StartPosition.Start }, e => e.Count == 2, Bound);
        Assert.Equal(["s", "one"], events.Select(e => e.MessageId));
        Assert.Equal("one", events[1].Body.ToStringUtf8());
    }

    [Fact]
    public async Task CloudToDevice_ServiceLinkSends_DeviceCompletesAbandonsRejects_FeedbackArrives()
    {
        var device = await _broker.CreateDeviceAsync("amqp-c2d");
        var service = await ConnectServiceAsync(_broker);
        var deviceConnection = await ConnectAsync(_broker, Auth.Anonymous);
        try
        {
            var serviceSession = new Session(service);
            var c2d = await AttachSenderAsync(serviceSession, "c2d", "/messages/devicebound");
            foreach (var id in new[] { "a", "b" })
            {
                var message = new Message { BodySection = new Data { Binary = Encoding.UTF8.GetBytes("hello " + id) } };
                message.Properties = new Properties { MessageId = id, To = $"/devices/{device.DeviceId}/messages/deviceBound", CorrelationId = "corr-" + id };
                message.ApplicationProperties = new ApplicationProperties();
                message.ApplicationProperties["iothub-ack"] = "full";
                message.ApplicationProperties["prop"] = "v";
                await c2d.SendAsync(message);
            }

            // An unknown device: rejected with amqp:not-found.
            var unknown = new Message { BodySection = new Data { Binary = "x"u8.ToArray() }, Properties = new Properties { To = "/devices/nobody/messages/deviceBound" } };
            var refused = await Assert.ThrowsAsync<AmqpException>(() => c2d.SendAsync(unknown));
            Assert.Equal("amqp:not-found", refused.Error.Condition.ToString());

            var session = new Session(deviceConnection);
            var receiver = await AttachCloudToDeviceReceiverAsync(session, _broker, device, $"/devices/{device.DeviceId}/messages/devicebound");
            receiver.SetCredit(1, autoRestore: false);
            var first = await receiver.ReceiveAsync(Bound);
            Assert.NotNull(first);
            Assert.Equal("a", first.Properties.MessageId);
            Assert.Equal("corr-a", first.Properties.CorrelationId);
            Assert.Equal($"/devices/{device.DeviceId}/messages/deviceBound", first.Properties.To);
            Assert.Equal("full", first.ApplicationProperties["iothub-ack"]);
            Assert.Equal("v", first.ApplicationProperties["prop"]);
            Assert.Equal("hello a", Encoding.UTF8.GetString((byte[])first.Body));
            Assert.Equal(new Guid((string)first.MessageAnnotations[(Symbol)"x-opt-lock-token"]), new Guid(first.DeliveryTag));
            Assert.Equal((byte)0, first.MessageAnnotations[(Symbol)"iothub-deliverycount"]);

            // Flow control: with its one credit used, the device gets nothing more. A CBS round trip on the same
            // connection is answered after anything the broker would have sent for that credit.
            await PutTokenAsync(session, DeviceAudience(_broker, device.DeviceId), _broker.CreateSasToken(device.DeviceId, TestBroker.PrimaryKeyOf(device)));
            // (AMQPNetLite waits forever on TimeSpan.Zero; one millisecond only looks at what it has buffered.)
            Assert.Null(await receiver.ReceiveAsync(TimeSpan.FromMilliseconds(1)));

            receiver.Release(first); // abandon: delivered again with a higher delivery count
            receiver.SetCredit(1, autoRestore: false);
            var again = await receiver.ReceiveAsync(Bound);
            Assert.NotNull(again);
            Assert.Equal("a", again.Properties.MessageId);
            Assert.Equal((byte)1, again.MessageAnnotations[(Symbol)"iothub-deliverycount"]);
            receiver.Reject(again);

            receiver.SetCredit(1, autoRestore: false);
            var second = await receiver.ReceiveAsync(Bound);
            Assert.NotNull(second);
            Assert.Equal("b", second.Properties.MessageId);
            receiver.Accept(second);

            var feedback = await AttachReceiverAsync(serviceSession, "feedback", "/messages/serviceBound/feedback");
            var records = new List<JsonElement>();
            while (records.Count < 2)
            {
                var batch = await feedback.ReceiveAsync(Bound);
                Assert.NotNull(batch);
                Assert.Equal(FeedbackBatch.ContentType, batch.Properties.ContentType.ToString());
                Assert.Equal(_broker.HostName.Split('.')[0], Encoding.UTF8.GetString(batch.Properties.UserId));
                Assert.Equal(16, batch.DeliveryTag.Length);
                records.AddRange(JsonDocument.Parse((byte[])batch.Body).RootElement.EnumerateArray().Select(e => e.Clone()));
                feedback.Accept(batch);
            }

            Assert.Contains(records, r => r.GetProperty("originalMessageId").GetString() == "a" && r.GetProperty("statusCode").GetString() == "Rejected");
            Assert.Contains(records, r => r.GetProperty("originalMessageId").GetString() == "b" && r.GetProperty("statusCode").GetString() == "Success");
        }
        finally
        {
            await deviceConnection.CloseAsync();
            await service.CloseAsync();
        }
    }

    [Fact]
    public async Task CloudToDevice_AbandonedUntilMaxDeliveryCount_CountGrowsOnEachDelivery_ThenDeliveryCountExceededFeedback()
    {
        var device = await _broker.CreateDeviceAsync("amqp-c2d-abandon");
        var service = await ConnectServiceAsync(_broker);
        var deviceConnection = await ConnectAsync(_broker, Auth.Anonymous);
        try
        {
            var serviceSession = new Session(service);
            var c2d = await AttachSenderAsync(serviceSession, "c2d", "/messages/devicebound");
            var sent = new Message { BodySection = new Data { Binary = "abandon me"u8.ToArray() } };
            sent.Properties = new Properties { MessageId = "abandoned", To = $"/devices/{device.DeviceId}/messages/deviceBound" };
            sent.ApplicationProperties = new ApplicationProperties();
            sent.ApplicationProperties["iothub-ack"] = "negative";
            await c2d.SendAsync(sent);

            var session = new Session(deviceConnection);
            var receiver = await AttachCloudToDeviceReceiverAsync(session, _broker, device, $"/devices/{device.DeviceId}/messages/devicebound");

            // MaxDeliveryCount is 3 here: each abandon (released) raises the count by one, the third dead-letters it.
            for (int expected = 0; expected < 3; expected++)
            {
                receiver.SetCredit(1, autoRestore: false);
                var delivery = await receiver.ReceiveAsync(Bound);
                Assert.NotNull(delivery);
                Assert.Equal("abandoned", delivery.Properties.MessageId);
                Assert.Equal((byte)expected, delivery.MessageAnnotations[(Symbol)"iothub-deliverycount"]);
                receiver.Release(delivery);
            }

            // Dead-lettered: nothing more is delivered, the queue is empty, and the service hears why.
            var feedback = await AttachReceiverAsync(serviceSession, "feedback", "/messages/serviceBound/feedback");
            var batch = await feedback.ReceiveAsync(Bound);
            Assert.NotNull(batch);
            var record = Assert.Single(JsonDocument.Parse((byte[])batch.Body).RootElement.EnumerateArray());
            Assert.Equal("abandoned", record.GetProperty("originalMessageId").GetString());
            Assert.Equal("DeliveryCountExceeded", record.GetProperty("statusCode").GetString());
            Assert.Equal(device.DeviceId, record.GetProperty("deviceId").GetString());
            feedback.Accept(batch);

            receiver.SetCredit(1, autoRestore: false);
            // A CBS round trip on the same connection is answered after anything the broker would have sent.
            await PutTokenAsync(session, DeviceAudience(_broker, device.DeviceId), _broker.CreateSasToken(device.DeviceId, TestBroker.PrimaryKeyOf(device)));
            Assert.Null(await receiver.ReceiveAsync(TimeSpan.FromMilliseconds(1)));
            Assert.Equal(0, _broker.Services.GetRequiredService<Broker.Core.CloudToDevice.CloudToDeviceService>().PendingCount(device.DeviceId));
        }
        finally
        {
            await deviceConnection.CloseAsync();
            await service.CloseAsync();
        }
    }

    [Fact]
    public async Task CloudToDevice_CreditTwoWithFourQueued_ReceivesExactlyTwoUntilItGrantsMore()
    {
        var device = await _broker.CreateDeviceAsync("amqp-credit");
        string key = TestBroker.PrimaryKeyOf(device);
        var cloudToDevice = _broker.Services.GetRequiredService<Broker.Core.CloudToDevice.CloudToDeviceService>();
        foreach (var id in new[] { "m1", "m2", "m3", "m4" })
        {
            await cloudToDevice.SendAsync(device.DeviceId, new CloudToDeviceRequest { Body = Encoding.UTF8.GetBytes(id), MessageId = id });
        }

        var connection = await ConnectAsync(_broker, Auth.Anonymous);
        try
        {
            var session = new Session(connection);
            var receiver = await AttachCloudToDeviceReceiverAsync(session, _broker, device, $"/devices/{device.DeviceId}/messages/deviceBound");
            receiver.SetCredit(2, autoRestore: false);
            Assert.Equal("m1", (await receiver.ReceiveAsync(Bound))?.Properties.MessageId);
            Assert.Equal("m2", (await receiver.ReceiveAsync(Bound))?.Properties.MessageId);

            // A CBS round trip on the same connection is answered after anything the broker sent for that credit.
            await PutTokenAsync(session, DeviceAudience(_broker, device.DeviceId), _broker.CreateSasToken(device.DeviceId, key));
            Assert.Null(await receiver.ReceiveAsync(TimeSpan.FromMilliseconds(1))); // only what is already buffered

            receiver.SetCredit(1, autoRestore: false);
            Assert.Equal("m3", (await receiver.ReceiveAsync(Bound))?.Properties.MessageId);
            await PutTokenAsync(session, DeviceAudience(_broker, device.DeviceId), _broker.CreateSasToken(device.DeviceId, key));
            Assert.Null(await receiver.ReceiveAsync(TimeSpan.FromMilliseconds(1)));
        }
        finally
        {
            await connection.CloseAsync();
        }
    }

    [Fact]
    public async Task Twin_GetPatchAndDesiredNotification_OverAPairedLink()
    {
        var device = await _broker.CreateDeviceAsync("amqp-twin");
        var connection = await ConnectAsync(_broker, Auth.NoSasl);
        try
        {
            var session = new Session(connection);
            Assert.Equal(200, (await PutTokenAsync(session, DeviceAudience(_broker, device.DeviceId), _broker.CreateSasToken(device.DeviceId, TestBroker.PrimaryKeyOf(device)))).Status);
            var properties = new Map { [(Symbol)"com.microsoft:channel-correlation-id"] = "twin:" + Guid.NewGuid() };
            var requests = await AttachSenderAsync(session, "twin-sender", $"/devices/{device.DeviceId}/twin", properties, SenderSettleMode.Settled);
            var replies = await AttachReceiverAsync(session, "twin-receiver", $"/devices/{device.DeviceId}/twin", properties);

            await requests.SendAsync(TwinRequest("GET", null, "get-1", null));
            var get = await replies.ReceiveAsync(Bound);
            Assert.NotNull(get);
            replies.Accept(get);
            Assert.Equal("get-1", get.Properties.CorrelationId);
            Assert.Equal(200, get.MessageAnnotations[(Symbol)"status"]);
            var view = JsonDocument.Parse((byte[])get.Body).RootElement;
            Assert.Equal(1, view.GetProperty("desired").GetProperty("$version").GetInt64());

            var patchId = Guid.NewGuid();
            await requests.SendAsync(TwinRequest("PATCH", "/properties/reported", patchId, """{"fw":"1.0"}"""));
            var patched = await replies.ReceiveAsync(Bound);
            Assert.NotNull(patched);
            replies.Accept(patched);
            Assert.Equal(patchId, patched.Properties.GetCorrelationId()); // a uuid stays a uuid
            Assert.Equal(204, patched.MessageAnnotations[(Symbol)"status"]);
            Assert.Equal(2L, patched.MessageAnnotations[(Symbol)"version"]);

            await requests.SendAsync(TwinRequest("PUT", "/notifications/twin/properties/desired", "sub-1", null));
            var subscribed = await replies.ReceiveAsync(Bound);
            Assert.NotNull(subscribed);
            replies.Accept(subscribed);
            Assert.Equal(200, subscribed.MessageAnnotations[(Symbol)"status"]);

            var twins = _broker.Services.GetRequiredService<Broker.Core.Twins.TwinService>();
            await twins.UpdateTwinAsync(device.DeviceId, null, Encoding.UTF8.GetBytes("""{"properties":{"desired":{"interval":5}}}"""), null);
            var desired = await replies.ReceiveAsync(Bound);
            Assert.NotNull(desired);
            replies.Accept(desired);
            Assert.Null(desired.Properties?.CorrelationId);
            var patch = JsonDocument.Parse((byte[])desired.Body).RootElement;
            Assert.Equal(5, patch.GetProperty("interval").GetInt32());
            Assert.Equal(2, patch.GetProperty("$version").GetInt64());
        }
        finally
        {
            await connection.CloseAsync();
        }
    }

    [Fact]
    public async Task Twin_TwoPairsOnOneConnection_EachRequestIsAnsweredOnItsPairedReceiver()
    {
        var device = await _broker.CreateDeviceAsync("amqp-twin-pairs");
        var connection = await ConnectAsync(_broker, Auth.NoSasl);
        try
        {
            var session = new Session(connection);
            Assert.Equal(200, (await PutTokenAsync(session, DeviceAudience(_broker, device.DeviceId), _broker.CreateSasToken(device.DeviceId, TestBroker.PrimaryKeyOf(device)))).Status);
            string address = $"/devices/{device.DeviceId}/twin";
            var first = new Map { [(Symbol)"com.microsoft:channel-correlation-id"] = "twin:" + Guid.NewGuid() };
            var second = new Map { [(Symbol)"com.microsoft:channel-correlation-id"] = "twin:" + Guid.NewGuid() };
            var firstRequests = await AttachSenderAsync(session, "twin-sender-1", address, first, SenderSettleMode.Settled);
            var firstReplies = await AttachReceiverAsync(session, "twin-receiver-1", address, first);
            var secondRequests = await AttachSenderAsync(session, "twin-sender-2", address, second, SenderSettleMode.Settled);
            var secondReplies = await AttachReceiverAsync(session, "twin-receiver-2", address, second);

            // The first pair's request: its answer must not go to the second (latest) receiver.
            await firstRequests.SendAsync(TwinRequest("GET", null, "first-get", null));
            var firstAnswer = await firstReplies.ReceiveAsync(Bound);
            Assert.NotNull(firstAnswer);
            firstReplies.Accept(firstAnswer);
            Assert.Equal("first-get", firstAnswer.Properties.CorrelationId);

            await secondRequests.SendAsync(TwinRequest("GET", null, "second-get", null));
            var secondAnswer = await secondReplies.ReceiveAsync(Bound);
            Assert.NotNull(secondAnswer);
            secondReplies.Accept(secondAnswer);
            Assert.Equal("second-get", secondAnswer.Properties.CorrelationId);
        }
        finally
        {
            await connection.CloseAsync();
        }
    }

    [Fact]
    public async Task Methods_RequestAndResponse_RoundTrip()
    {
        var device = await _broker.CreateDeviceAsync("amqp-methods");
        var connection = await ConnectAsync(_broker, Auth.NoSasl);
        try
        {
            var session = new Session(connection);
            Assert.Equal(200, (await PutTokenAsync(session, DeviceAudience(_broker, device.DeviceId), _broker.CreateSasToken(device.DeviceId, TestBroker.PrimaryKeyOf(device)))).Status);
            var properties = new Map { [(Symbol)"com.microsoft:channel-correlation-id"] = "methods:" + Guid.NewGuid() };
            var requests = await AttachReceiverAsync(session, "methods-receiver", $"/devices/{device.DeviceId}/methods/devicebound", properties);
            var responses = await AttachSenderAsync(session, "methods-sender", $"/devices/{device.DeviceId}/methods/devicebound", properties, SenderSettleMode.Settled);

            var invoker = _broker.Services.GetRequiredService<MethodInvoker>();
            var call = invoker.InvokeAsync(new MethodRequest { DeviceId = device.DeviceId, MethodName = "reboot", Payload = Encoding.UTF8.GetBytes("""{"delay":1}""") });
            var request = await requests.ReceiveAsync(Bound);
            Assert.NotNull(request);
            requests.Accept(request);
            Assert.Equal("reboot", request.ApplicationProperties["IoThub-methodname"]);
            Assert.Equal("""{"delay":1}""", Encoding.UTF8.GetString((byte[])request.Body));

            var response = new Message { BodySection = new Data { Binary = """{"ok":true}"""u8.ToArray() } };
            response.Properties = new Properties();
            response.Properties.SetCorrelationId(request.Properties.GetCorrelationId());
            response.ApplicationProperties = new ApplicationProperties();
            response.ApplicationProperties["IoThub-status"] = 201;
            await responses.SendAsync(response);

            var result = await call.WaitAsync(Bound);
            Assert.Equal(201, result.Status);
            Assert.Equal("""{"ok":true}""", Encoding.UTF8.GetString(result.Payload!));
        }
        finally
        {
            await connection.CloseAsync();
        }
    }

    [Fact]
    public async Task Attach_BadAddressesAndUnauthorisedLinks_AreRefusedWithAmqpErrors()
    {
        var device = await _broker.CreateDeviceAsync("amqp-refused");
        var connection = await ConnectAsync(_broker, Auth.NoSasl);
        try
        {
            var session = new Session(connection);
            var unknown = await Assert.ThrowsAsync<AmqpException>(() => AttachSenderAsync(session, "x", "/nowhere"));
            Assert.Equal("amqp:not-found", unknown.Error.Condition.ToString());

            var noToken = await Assert.ThrowsAsync<AmqpException>(() => AttachSenderAsync(session, "e", $"/devices/{device.DeviceId}/messages/events"));
            Assert.Equal("amqp:unauthorized-access", noToken.Error.Condition.ToString());

            var (status, _, _) = await PutTokenAsync(session, DeviceAudience(_broker, device.DeviceId), _broker.CreateSasToken(device.DeviceId, Convert.ToBase64String(new byte[32])));
            Assert.Equal(401, status);

            // A device token does not open another device's links, nor the service's.
            Assert.Equal(200, (await PutTokenAsync(session, DeviceAudience(_broker, device.DeviceId), _broker.CreateSasToken(device.DeviceId, TestBroker.PrimaryKeyOf(device)))).Status);
            var other = await Assert.ThrowsAsync<AmqpException>(() => AttachSenderAsync(session, "o", "/devices/someone-else/messages/events"));
            Assert.Equal("amqp:unauthorized-access", other.Error.Condition.ToString());
            var serviceLink = await Assert.ThrowsAsync<AmqpException>(() => AttachSenderAsync(session, "s", "/messages/devicebound"));
            Assert.Equal("amqp:unauthorized-access", serviceLink.Error.Condition.ToString());
            var wrongRole = await Assert.ThrowsAsync<AmqpException>(() => AttachReceiverAsync(session, "r", $"/devices/{device.DeviceId}/messages/events"));
            Assert.Equal("amqp:not-allowed", wrongRole.Error.Condition.ToString());

            // The connection still works after the refusals.
            var sender = await AttachSenderAsync(session, "events", $"/devices/{device.DeviceId}/messages/events");
            await sender.SendAsync(new Message("still here"));
        }
        finally
        {
            await connection.CloseAsync();
        }
    }

    [Fact]
    public async Task MalformedFrame_ClosesTheConnectionWithAnAmqpError_AndTheBrokerKeepsServing()
    {
        using (var client = new TcpClient())
        {
            await client.ConnectAsync(IPAddress.Loopback, _broker.AmqpPort);
            var stream = client.GetStream();
            await stream.WriteAsync("AMQP\0\x01\0\0"u8.ToArray());
            // A frame of 16 bytes whose body is not a performative.
            await stream.WriteAsync(new byte[] { 0, 0, 0, 16, 2, 0, 0, 0, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF });
            using var timeout = new CancellationTokenSource(Bound);
            var received = new MemoryStream();
            var buffer = new byte[1024];
            int read;
            while ((read = await stream.ReadAsync(buffer, timeout.Token)) > 0)
            {
                received.Write(buffer, 0, read);
            }

            var bytes = received.ToArray();
            Assert.True(bytes.AsSpan().StartsWith("AMQP\0\x01\0\0"u8));
            Assert.True(bytes.AsSpan().IndexOf("amqp:"u8) > 0, "the close carries an AMQP error condition");
        }

        var connection = await ConnectAsync(_broker, Auth.NoSasl);
        await connection.CloseAsync();
    }

    [Fact]
    public async Task External_TlsClientCertificate_AuthenticatesAnX509Device()
    {
        const string deviceId = "amqp-x509";
        using var certificate = SelfSignedClientCertificate(deviceId);
        await X509Devices.RegisterAsync(_broker, deviceId, certificate);
        var connection = await ConnectAsync(_broker, Auth.External, clientCertificate: certificate);
        try
        {
            var session = new Session(connection);
            var sender = await AttachSenderAsync(session, "events", $"/devices/{deviceId}/messages/events");
            await sender.SendAsync(new Message { BodySection = new Data { Binary = "x509"u8.ToArray() } });
            var other = await Assert.ThrowsAsync<AmqpException>(() => AttachSenderAsync(session, "o", "/devices/amqp-telemetry/messages/events"));
            Assert.Equal("amqp:unauthorized-access", other.Error.Condition.ToString());
        }
        finally
        {
            await connection.CloseAsync();
        }

        var events = await _api.ReadAsync(new ReadEventsRequest { DeviceId = deviceId, Start = StartPosition.Start }, e => e.Count == 1, Bound);
        Assert.Equal("x509", events[0].Body.ToStringUtf8());
        Assert.Contains("x509", events[0].SystemProperties["iothub-connection-auth-method"], StringComparison.Ordinal);
    }

    internal static X509Certificate2 SelfSignedClientCertificate(string deviceId)
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest($"CN={deviceId}", key, HashAlgorithmName.SHA256);
        request.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension([new Oid("1.3.6.1.5.5.7.3.2")], critical: false));
        var now = DateTimeOffset.UtcNow;
        using var certificate = request.CreateSelfSigned(now.AddDays(-1), now.AddDays(30));
        return X509CertificateLoader.LoadPkcs12(certificate.Export(X509ContentType.Pkcs12), password: null);
    }

    private static Message TwinRequest(string operation, string? resource, object correlationId, string? body)
    {
        var message = body is null ? new Message() : new Message { BodySection = new Data { Binary = Encoding.UTF8.GetBytes(body) } };
        message.MessageAnnotations = new MessageAnnotations();
        message.MessageAnnotations[(Symbol)"operation"] = operation;
        if (resource is not null)
        {
            message.MessageAnnotations[(Symbol)"resource"] = resource;
        }

        message.Properties = new Properties();
        message.Properties.SetCorrelationId(correlationId);
        return message;
    }
}
