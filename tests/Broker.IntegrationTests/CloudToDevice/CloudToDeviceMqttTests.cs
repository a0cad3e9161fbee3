using System.Text;
using System.Text.Json;
using Broker.Core.Errors;
using Broker.Host.Tests.Support;
using Broker.IntegrationTests.Support;
using Broker.Management.V1;
using Google.Protobuf;
using Grpc.Core;
using Microsoft.Extensions.Time.Testing;
using MQTTnet.Protocol;

namespace Broker.IntegrationTests.CloudToDevice;

/// <summary>Issue #6: cloud-to-device messages over MQTT, sent and purged through the management API, with feedback.</summary>
public sealed class CloudToDeviceMqttTests : IAsyncLifetime
{
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(30);
    private readonly FakeTimeProvider _time = new(DateTimeOffset.UtcNow);
    private TestBroker _broker = null!;
    private ManagementApi _api = null!;

    public async Task InitializeAsync()
    {
        _broker = await TestBroker.StartAsync(new TestBrokerOptions
        {
            Time = _time,
            // Feedback is offered as soon as it is written, so a test needs no clock advance to read it.
            Settings = new Dictionary<string, string?> { ["CloudToDevice:FeedbackBatchDelay"] = "00:00:00" },
        });
        _api = ManagementApi.Connect(_broker);
    }

    public async Task DisposeAsync()
    {
        _api.Dispose();
        await _broker.DisposeAsync();
    }

    [Fact]
    public async Task Send_SubscribedDevice_ReceivesBodyAndEncodedPropertiesAndItsPubAckCompletesWithSuccessFeedback()
    {
        await using var device = await ConnectAsync("c2d-basic");
        await device.SubscribeCloudToDeviceAsync();

        await SendAsync(device.DeviceId, "hello device", messageId: "m-1", ack: "full", ("unit", "deg'C"), ("expr", "a&b+c%d$e"));

        var received = await device.ReceiveAsync();
        var topic = received.ApplicationMessage.Topic;
        Assert.StartsWith("devices/c2d-basic/messages/devicebound/", topic, StringComparison.Ordinal);
        string bag = topic["devices/c2d-basic/messages/devicebound/".Length..];
        Assert.Equal(4, topic.Split('/').Length - 1); // the bag is path segment 4: no raw '/' in it
        Assert.DoesNotContain('+', bag);
        Assert.Contains("%24.mid=m-1", bag, StringComparison.Ordinal);
        Assert.Contains("%24.to=%2Fdevices%2Fc2d-basic%2Fmessages%2FdeviceBound", bag, StringComparison.Ordinal);
        Assert.Contains("unit=deg%27C", bag, StringComparison.Ordinal);
        Assert.Contains("expr=a%26b%2Bc%25d%24e", bag, StringComparison.Ordinal);
        Assert.Equal("hello device", Encoding.UTF8.GetString(received.ApplicationMessage.Payload));
        Assert.Equal(MqttQualityOfServiceLevel.AtLeastOnce, received.ApplicationMessage.QualityOfServiceLevel);

        var records = await ReceiveFeedbackAsync(1);
        Assert.Equal("m-1", records[0].GetProperty("originalMessageId").GetString());
        Assert.Equal("Success", records[0].GetProperty("statusCode").GetString());
        Assert.Equal("c2d-basic", records[0].GetProperty("deviceId").GetString());
        Assert.False(string.IsNullOrEmpty(records[0].GetProperty("deviceGenerationId").GetString()));
    }

    [Fact]
    public async Task Send_FiftyPending_TheFiftyFirstIsRefusedWith403004()
    {
        var device = await _broker.CreateDeviceAsync("c2d-full");
        for (int i = 0; i < 50; i++)
        {
            await SendAsync(device.DeviceId, $"m{i}");
        }

        var error = await Assert.ThrowsAsync<RpcException>(() => SendAsync(device.DeviceId, "one too many"));
        Assert.Equal("DeviceMaximumQueueDepthExceeded", error.Trailers.GetValue("iothub-errorcode"));
        Assert.Contains("403004", error.Status.Detail, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Send_UnknownDevice_IsRefusedWith404001()
    {
        var error = await Assert.ThrowsAsync<RpcException>(() => SendAsync("nobody", "x"));
        Assert.Equal(StatusCode.NotFound, error.StatusCode);
        Assert.Contains("404001", error.Status.Detail, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Message_PastItsTimeToLive_IsNeverDeliveredAndReportedExpired()
    {
        var created = await _broker.CreateDeviceAsync("c2d-ttl");
        await SendAsync(created.DeviceId, "short-lived", messageId: "ttl-1", ack: "negative", ttlSeconds: 60);
        await SendAsync(created.DeviceId, "long-lived", messageId: "ttl-2", ttlSeconds: 3600);

        _time.Advance(TimeSpan.FromSeconds(61));
        var records = await ReceiveFeedbackAsync(1);
        Assert.Equal("ttl-1", records[0].GetProperty("originalMessageId").GetString());
        Assert.Equal("Expired", records[0].GetProperty("statusCode").GetString());

        await using var device = await ConnectAsync(created.DeviceId, created);
        await device.SubscribeCloudToDeviceAsync();
        var received = await device.ReceiveAsync();
        Assert.Equal("long-lived", Encoding.UTF8.GetString(received.ApplicationMessage.Payload));
    }

    [Fact]
    public async Task Purge_DeletesPendingMessagesAndReportsPurgedFeedback()
    {
        var device = await _broker.CreateDeviceAsync("c2d-purge");
        await SendAsync(device.DeviceId, "a", messageId: "p-1", ack: "full");
        await SendAsync(device.DeviceId, "b", messageId: "p-2");

        var reply = await _api.CloudToDevice.PurgeQueueAsync(new PurgeQueueRequest { DeviceId = device.DeviceId }, _api.Call());

        Assert.Equal(2, reply.TotalMessagesPurged);
        var records = await ReceiveFeedbackAsync(1);
        Assert.Equal("Purged", records[0].GetProperty("statusCode").GetString());
        Assert.Equal("p-1", records[0].GetProperty("originalMessageId").GetString());
        await SendAsync(device.DeviceId, "after purge"); // the queue has room for 50 again
    }

    [Fact]
    public async Task Delivery_NotAcknowledgedBeforeTheConnectionDrops_IsDeliveredAgainOnReconnect()
    {
        var created = await _broker.CreateDeviceAsync("c2d-redeliver");
        await SendAsync(created.DeviceId, "survives a drop", messageId: "r-1", ack: "positive");
        var first = await ConnectAsync(created.DeviceId, created, autoAcknowledge: false);
        await first.SubscribeCloudToDeviceAsync();
        Assert.Equal("survives a drop", Encoding.UTF8.GetString((await first.ReceiveAsync()).ApplicationMessage.Payload));
        first.Abort();

        await using var second = await ConnectAsync(created.DeviceId, created);
        await second.SubscribeCloudToDeviceAsync();
        var again = await second.ReceiveAsync();

        Assert.Equal("survives a drop", Encoding.UTF8.GetString(again.ApplicationMessage.Payload));
        var records = await ReceiveFeedbackAsync(1);
        Assert.Equal("Success", records[0].GetProperty("statusCode").GetString());
    }

    [Fact]
    public async Task Lock_NotSettledWithinAMinute_ReturnsTheMessageToTheQueue()
    {
        var created = await _broker.CreateDeviceAsync("c2d-lock");
        await using var device = await ConnectAsync(created.DeviceId, created, autoAcknowledge: false);
        await device.SubscribeCloudToDeviceAsync();
        await SendAsync(created.DeviceId, "locked for a minute");
        _ = await device.ReceiveAsync();

        _time.Advance(TimeSpan.FromMinutes(1) + TimeSpan.FromSeconds(1));

        var redelivered = await device.ReceiveAsync(); // the lock ran out: visible again, delivered again
        Assert.Equal("locked for a minute", Encoding.UTF8.GetString(redelivered.ApplicationMessage.Payload));
    }

    [Fact]
    public async Task PersistentSession_KeepsTheSubscription_BacklogArrivesOnReconnectWithoutSubscribing()
    {
        var created = await _broker.CreateDeviceAsync("c2d-persistent");
        await using (var first = await ConnectAsync(created.DeviceId, created, cleanSession: false))
        {
            await first.SubscribeCloudToDeviceAsync();
        }

        await SendAsync(created.DeviceId, "sent while offline");

        await using var second = await ConnectAsync(created.DeviceId, created, cleanSession: false);
        Assert.True(second.SessionPresent);
        var received = await second.ReceiveAsync();
        Assert.Equal("sent while offline", Encoding.UTF8.GetString(received.ApplicationMessage.Payload));
    }

    [Fact]
    public async Task CleanSession_ForgetsThePersistentSubscription()
    {
        var created = await _broker.CreateDeviceAsync("c2d-clean");
        await using (var first = await ConnectAsync(created.DeviceId, created, cleanSession: false))
        {
            await first.SubscribeCloudToDeviceAsync();
        }

        await using (var clean = await ConnectAsync(created.DeviceId, created, cleanSession: true))
        {
            Assert.False(clean.SessionPresent);
        }

        await using var again = await ConnectAsync(created.DeviceId, created, cleanSession: false);
        Assert.False(again.SessionPresent);
    }

    [Fact]
    public async Task PersistentSession_OfADeletedDevice_IsNotInheritedByADeviceRegisteredAgainUnderItsId()
    {
        var first = await _broker.CreateDeviceAsync("c2d-reborn");
        await using (var device = await ConnectAsync(first.DeviceId, first, cleanSession: false))
        {
            await device.SubscribeCloudToDeviceAsync();
        }

        await _broker.Registry.DeleteDeviceAsync(first.DeviceId);
        var second = await _broker.CreateDeviceAsync("c2d-reborn");

        await using var reborn = await ConnectAsync(second.DeviceId, second, cleanSession: false);
        Assert.False(reborn.SessionPresent);
    }

    [Fact]
    public async Task QueuedMessages_SurviveABrokerRestart()
    {
        var created = await _broker.CreateDeviceAsync("c2d-restart");
        await SendAsync(created.DeviceId, "kept on disk", messageId: "k-1");
        _api.Dispose();
        await _broker.RestartAsync();
        _api = ManagementApi.Connect(_broker);

        await using var device = await ConnectAsync(created.DeviceId, created);
        await device.SubscribeCloudToDeviceAsync();
        var received = await device.ReceiveAsync();

        Assert.Equal("kept on disk", Encoding.UTF8.GetString(received.ApplicationMessage.Payload));
        Assert.Contains("%24.mid=k-1", received.ApplicationMessage.Topic, StringComparison.Ordinal);
    }

    private async Task<TestDevice> ConnectAsync(string deviceId, Broker.Core.Registry.Device? device = null, bool cleanSession = true, bool autoAcknowledge = true)
    {
        device ??= await _broker.CreateDeviceAsync(deviceId);
        return await TestDevice.ConnectAsync(_broker, deviceId, TestBroker.PrimaryKeyOf(device), cleanSession, autoAcknowledge);
    }

    private async Task SendAsync(string deviceId, string body, string? messageId = null, string ack = "none", params (string Name, string Value)[] properties)
        => await SendAsync(deviceId, body, messageId, ack, 0, properties);

    private async Task SendAsync(string deviceId, string body, string? messageId, string ack, int ttlSeconds, params (string Name, string Value)[] properties)
    {
        var request = new SendMessageRequest
        {
            DeviceId = deviceId,
            Body = ByteString.CopyFromUtf8(body),
            MessageId = messageId ?? "",
            Ack = ack,
            TtlSeconds = ttlSeconds,
        };
        foreach (var (name, value) in properties)
        {
            request.Properties[name] = value;
        }

        await _api.CloudToDevice.SendMessageAsync(request, _api.Call());
    }

    private Task SendAsync(string deviceId, string body, string? messageId, int ttlSeconds)
        => SendAsync(deviceId, body, messageId, "none", ttlSeconds);

    private Task SendAsync(string deviceId, string body, string? messageId, string ack, int ttlSeconds)
        => SendAsync(deviceId, body, messageId, ack, ttlSeconds, []);

    // Reads feedback messages until `count` records arrived, completing each message.
    private async Task<List<JsonElement>> ReceiveFeedbackAsync(int count)
    {
        using var bound = new CancellationTokenSource(Bound);
        using var call = _api.CloudToDevice.ReceiveFeedback(new ReceiveFeedbackRequest(), _api.Stream(bound.Token));
        var records = new List<JsonElement>();
        while (records.Count < count)
        {
            Assert.True(await call.ResponseStream.MoveNext(bound.Token), "the feedback stream ended");
            var message = call.ResponseStream.Current;
            Assert.Equal("application/vnd.microsoft.iothub.feedback.json", message.ContentType);
            using var body = JsonDocument.Parse(message.Body.Memory);
            records.AddRange(body.RootElement.EnumerateArray().Select(static record => record.Clone()));
            await _api.CloudToDevice.CompleteFeedbackAsync(new SettleFeedbackRequest { LockToken = message.LockToken }, _api.Call());
        }

        return records;
    }
}
