using System.Globalization;
using Broker.Core.Storage;
using Broker.Host.Tests.Support;
using Broker.Management.V1;
using Microsoft.Extensions.DependencyInjection;
using MQTTnet;
using MQTTnet.Protocol;

namespace Broker.IntegrationTests.Telemetry;

/// <summary>Devices that publish numbered QoS 1 telemetry with MQTTnet, and the checks of what the events API returns.</summary>
internal static class TelemetryTraffic
{
    public const string AppProperty = "app-prop";

    /// <summary>IoT Hub's auth method annotation for a device SAS token.</summary>
    public const string SasAuthMethod = "{\"scope\":\"device\",\"type\":\"sas\",\"issuer\":\"iothub\"}";

    public static string MessageId(string deviceId, int index) => $"{deviceId}-{index.ToString(CultureInfo.InvariantCulture)}";

    public static string AppValue(int index) => $"v {index.ToString(CultureInfo.InvariantCulture)}/&";

    /// <summary>Registers <paramref name="count"/> devices and returns their SAS tokens by id.</summary>
    public static async Task<Dictionary<string, string>> CreateDevicesAsync(TestBroker broker, string prefix, int count)
    {
        var tokens = new Dictionary<string, string>();
        for (int i = 0; i < count; i++)
        {
            var device = await broker.CreateDeviceAsync($"{prefix}-{i.ToString(CultureInfo.InvariantCulture)}");
            tokens[device.DeviceId] = broker.CreateSasToken(device.DeviceId, TestBroker.PrimaryKeyOf(device));
        }

        return tokens;
    }

    /// <summary>Every device connects and publishes messages <paramref name="from"/>..<paramref name="to"/> (exclusive) in order, each awaiting its PUBACK; devices run in parallel.</summary>
    public static async Task PublishAsync(TestBroker broker, IReadOnlyDictionary<string, string> tokens, int from, int to)
    {
        await Task.WhenAll(tokens.Select(async pair =>
        {
            using var client = new MqttClientFactory().CreateMqttClient();
            var connected = await client.ConnectAsync(DeviceMqtt.Options(broker, pair.Key, pair.Value, tls: false));
            Assert.Equal(MqttClientConnectResultCode.Success, connected.ResultCode);
            for (int i = from; i < to; i++)
            {
                var result = await client.PublishAsync(Message(pair.Key, i));
                Assert.True(result.IsSuccess, $"{MessageId(pair.Key, i)}: {result.ReasonCode}");
            }

            await client.DisconnectAsync();
        }));
    }

    /// <summary>Telemetry message <paramref name="index"/> of a device: message id, content type and encoding, an URL-encoded app property.</summary>
    public static MqttApplicationMessage Message(string deviceId, int index)
        => new MqttApplicationMessageBuilder()
            .WithTopic($"devices/{deviceId}/messages/events/%24.mid={Uri.EscapeDataString(MessageId(deviceId, index))}&%24.ct=application%2Fjson&%24.ce=utf-8&{AppProperty}={Uri.EscapeDataString(AppValue(index))}")
            .WithPayload($"{{\"i\":{index.ToString(CultureInfo.InvariantCulture)}}}")
            .WithQualityOfServiceLevel(MqttQualityOfServiceLevel.AtLeastOnce)
            .Build();

    /// <summary>The total number of events in the broker's logs.</summary>
    public static long StoredEventCount(TestBroker broker)
    {
        var store = broker.Services.GetRequiredService<IHubStore>();
        long count = 0;
        for (int p = 0; p < store.PartitionCount; p++)
        {
            count += store.GetPartition(p).Events.NextSequenceNumber;
        }

        return count;
    }

    /// <summary>
    /// Asserts <paramref name="events"/> are exactly messages <paramref name="from"/>..<paramref name="to"/> of every
    /// device, each once, each device's in order, with the properties they were sent with.
    /// </summary>
    public static void AssertExactly(IReadOnlyCollection<string> deviceIds, int from, int to, IReadOnlyList<EventMessage> events)
    {
        Assert.Equal(deviceIds.Count * (to - from), events.Count);
        var next = deviceIds.ToDictionary(id => id, _ => from);
        foreach (var e in events)
        {
            Assert.True(next.TryGetValue(e.DeviceId, out int expected), $"an event from unexpected device '{e.DeviceId}'");
            Assert.Equal(MessageId(e.DeviceId, expected), e.MessageId); // in order, none missing, none twice
            AssertProperties(e, expected);
            next[e.DeviceId] = expected + 1;
        }

        Assert.All(next, pair => Assert.Equal(to, pair.Value));
    }

    private static string Prop(IDictionary<string, string> map, string key)
    {
        Assert.True(map.TryGetValue(key, out var value), $"no '{key}' property");
        return value;
    }

    private static void AssertProperties(EventMessage e, int index)
    {
        Assert.Equal($"{{\"i\":{index.ToString(CultureInfo.InvariantCulture)}}}", e.Body.ToStringUtf8());
        Assert.Equal("application/json", e.ContentType);
        Assert.Equal("utf-8", e.ContentEncoding);
        Assert.Equal(string.Empty, e.ModuleId);
        Assert.Equal(AppValue(index), Prop(e.Properties, AppProperty));
        Assert.Equal(e.MessageId, Prop(e.SystemProperties, "message-id"));
        Assert.Equal("application/json", Prop(e.SystemProperties, "content-type"));
        Assert.Equal(e.DeviceId, Prop(e.SystemProperties, "iothub-connection-device-id"));
        Assert.Equal(SasAuthMethod, Prop(e.SystemProperties, "iothub-connection-auth-method"));
        Assert.Equal("Telemetry", Prop(e.SystemProperties, "iothub-message-source"));
        Assert.DoesNotContain("iothub-connection-module-id", e.SystemProperties.Keys);
    }
}
