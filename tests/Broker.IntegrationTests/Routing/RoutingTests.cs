using System.Text;
using Broker.Host.Tests.Support;
using Broker.IntegrationTests.Support;
using Broker.Testing;
using Broker.Plugins.Routing;
using Microsoft.Extensions.DependencyInjection;
using MQTTnet.Protocol;
using Xunit.Abstractions;

namespace Broker.IntegrationTests.Routing;

/// <summary>
/// Message routes to custom endpoints: devices publish over MQTT, routes select by application property, system
/// property and JSON body, and each endpoint's sink (registered as a plug-in registers it) gets what its routes send.
/// </summary>
public sealed class RoutingTests(ITestOutputHelper output)
{
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(30);

    private static Dictionary<string, string?> Routes() => new()
    {
        ["Routing:Routes:0:Name"] = "hot",
        ["Routing:Routes:0:Condition"] = "$body.temperature > 30 AND $connectionDeviceId = 'routed-device'",
        ["Routing:Routes:0:Endpoints:0"] = "hot-store",
        ["Routing:Routes:1:Name"] = "critical",
        ["Routing:Routes:1:Condition"] = "Level = 'critical'", // application property names match case-insensitively
        ["Routing:Routes:1:Endpoints:0"] = "alerts",
        ["Routing:Routes:2:Name"] = "critical-again", // a second route to the same endpoint: still one copy
        ["Routing:Routes:2:Condition"] = "level IN ['critical', 'fatal']",
        ["Routing:Routes:2:Endpoints:0"] = "alerts",
        ["Routing:Routes:3:Name"] = "off",
        ["Routing:Routes:3:IsEnabled"] = "false",
        ["Routing:Routes:3:Condition"] = "true",
        ["Routing:Routes:3:Endpoints:0"] = "alerts",
    };

    [Fact]
    public async Task Routes_SendEachEndpointTheMessagesItsConditionsSelect_OnceAndInOrder()
    {
        var hot = new RecordingSink();
        var alerts = new RecordingSink();
        await using var broker = await TestBroker.StartAsync(new TestBrokerOptions
        {
            Output = output,
            Settings = Routes(),
            ConfigureServices = services => services.AddKeyedSingleton<IEndpointSink>("hot-store", hot).AddKeyedSingleton<IEndpointSink>("alerts", alerts),
        });
        var device = await broker.CreateDeviceAsync("routed-device");
        await using var client = await TestDevice.ConnectAsync(broker, device.DeviceId, TestBroker.PrimaryKeyOf(device));
        string json = $"devices/{device.DeviceId}/messages/events/$.ct=application%2Fjson&$.ce=utf-8";
        await client.PublishAsync(json, """{"temperature":25}""", MqttQualityOfServiceLevel.AtLeastOnce);
        await client.PublishAsync(json + "&level=critical", """{"temperature":35}""", MqttQualityOfServiceLevel.AtLeastOnce);
        await client.PublishAsync($"devices/{device.DeviceId}/messages/events/$.ct=text%2Fplain", """{"temperature":99}""", MqttQualityOfServiceLevel.AtLeastOnce); // not JSON-typed: no $body
        await client.PublishAsync($"devices/{device.DeviceId}/messages/events/level=info", "calm", MqttQualityOfServiceLevel.AtLeastOnce);
        await client.PublishAsync($"devices/{device.DeviceId}/messages/events/level=fatal&$.mid=last", "down", MqttQualityOfServiceLevel.AtLeastOnce);

        var hotMessages = await hot.WaitForAsync(1);
        var alertMessages = await alerts.WaitForAsync(2);
        Assert.Equal(["""{"temperature":35}"""], hotMessages.Select(m => m.Body));
        Assert.Equal(["""{"temperature":35}""", "down"], alertMessages.Select(m => m.Body));
        Assert.Equal("critical", alertMessages[0].Properties["level"]);
        Assert.Equal("last", alertMessages[1].SystemProperties["message-id"]);
        Assert.Equal(device.DeviceId, alertMessages[1].DeviceId);
        Assert.Equal(device.DeviceId, alertMessages[1].SystemProperties["iothub-connection-device-id"]);
        Assert.True(alertMessages[0].SequenceNumber < alertMessages[1].SequenceNumber);

        // Nothing else arrives: a marker routed to both after the rest comes next on each.
        await client.PublishAsync(json + "&level=critical", """{"temperature":40}""", MqttQualityOfServiceLevel.AtLeastOnce);
        Assert.Equal(2, (await hot.WaitForAsync(2)).Count);
        Assert.Equal(3, (await alerts.WaitForAsync(3)).Count);
        Assert.Equal(2, hot.Received.Count);
        Assert.Equal(3, alerts.Received.Count);
    }

    [Fact]
    public async Task Sink_ThatFails_GetsTheSameMessagesAgain()
    {
        var alerts = new RecordingSink { FailuresLeft = 1 };
        await using var broker = await TestBroker.StartAsync(new TestBrokerOptions
        {
            Output = output,
            Settings = Routes(),
            ConfigureServices = services => services.AddKeyedSingleton<IEndpointSink>("hot-store", new RecordingSink()).AddKeyedSingleton<IEndpointSink>("alerts", alerts),
        });
        var device = await broker.CreateDeviceAsync("routed-retry");
        await using var client = await TestDevice.ConnectAsync(broker, device.DeviceId, TestBroker.PrimaryKeyOf(device));
        await client.PublishAsync($"devices/{device.DeviceId}/messages/events/level=critical&$.mid=m1", "first", MqttQualityOfServiceLevel.AtLeastOnce);

        var delivered = await alerts.WaitForAsync(1);
        Assert.Equal("first", delivered[0].Body);
        Assert.Equal(1, alerts.Failures);
        Assert.Equal(2, alerts.Calls); // the failed call, then the same message again
    }

    [Fact]
    public async Task EndpointNoLongerRouted_LosesItsReaders_SoRetentionIsNotHeldBack()
    {
        using var data = new TempDirectory();
        var alerts = new RecordingSink();
        await using (var broker = await TestBroker.StartAsync(new TestBrokerOptions
        {
            Output = output,
            DataDirectory = data.Path,
            Settings = Routes(),
            ConfigureServices = services => services.AddKeyedSingleton<IEndpointSink>("hot-store", new RecordingSink()).AddKeyedSingleton<IEndpointSink>("alerts", alerts),
        }))
        {
            var device = await broker.CreateDeviceAsync("routed-then-not");
            await using var client = await TestDevice.ConnectAsync(broker, device.DeviceId, TestBroker.PrimaryKeyOf(device));
            await client.PublishAsync($"devices/{device.DeviceId}/messages/events/level=critical", "x", MqttQualityOfServiceLevel.AtLeastOnce);
            await alerts.WaitForAsync(1); // the pumps are running: their readers exist in every partition
            Assert.Contains("route:alerts", ReaderNames(broker));
        }

        await using var restarted = await TestBroker.StartAsync(new TestBrokerOptions { Output = output, DataDirectory = data.Path });
        Assert.DoesNotContain(ReaderNames(restarted), name => name.StartsWith("route:", StringComparison.Ordinal));
    }

    private static List<string> ReaderNames(TestBroker broker)
    {
        var store = broker.Services.GetRequiredService<Broker.Core.Storage.IHubStore>();
        return Enumerable.Range(0, store.PartitionCount).SelectMany(p => store.GetPartition(p).Events.ReaderNames).ToList();
    }

    [Theory]
    [InlineData("Routing:Routes:0:Condition", "level = ", "Routing:Routes:0 (hot)")]
    [InlineData("Routing:Routes:0:Endpoints:0", "nowhere", "Routing endpoint 'nowhere' has no sink")]
    [InlineData("Routing:Routes:0:Source", "TwinChangeEvents", "Source 'TwinChangeEvents'")]
    public async Task BadRoute_StopsStartupNamingIt(string key, string value, string expected)
    {
        var settings = Routes();
        settings[key] = value;
        var error = await Assert.ThrowsAnyAsync<Exception>(async () => await (await TestBroker.StartAsync(new TestBrokerOptions
        {
            Output = output,
            Settings = settings,
            ConfigureServices = services => services.AddKeyedSingleton<IEndpointSink>("hot-store", new RecordingSink()).AddKeyedSingleton<IEndpointSink>("alerts", new RecordingSink()),
        })).DisposeAsync());
        Assert.Contains(expected, error.ToString(), StringComparison.Ordinal);
    }

    /// <summary>A sink that records what it accepts; it can fail its first calls.</summary>
    private sealed class RecordingSink : IEndpointSink
    {
        private readonly Lock _lock = new();
        private readonly List<(int Count, TaskCompletionSource<List<Received>> Done)> _waiters = [];

        public List<Received> Received { get; } = [];

        public int FailuresLeft { get; set; }

        public int Failures { get; private set; }

        public int Calls { get; private set; }

        public ValueTask WriteAsync(IReadOnlyList<RoutedMessage> batch, CancellationToken cancellationToken)
        {
            lock (_lock)
            {
                Calls++;
                if (FailuresLeft > 0)
                {
                    FailuresLeft--;
                    Failures++;
                    throw new IOException("The test sink refuses this batch.");
                }

                Received.AddRange(batch.Select(message => new Received(message.DeviceId, Encoding.UTF8.GetString(message.Body.Span), message.SequenceNumber,
                    new Dictionary<string, string>(message.Properties), new Dictionary<string, string>(message.SystemProperties))));
                foreach (var waiter in _waiters.Where(waiter => Received.Count >= waiter.Count).ToList())
                {
                    _waiters.Remove(waiter);
                    waiter.Done.TrySetResult([.. Received]);
                }
            }

            return ValueTask.CompletedTask;
        }

        public Task<List<Received>> WaitForAsync(int count)
        {
            lock (_lock)
            {
                if (Received.Count >= count)
                {
                    return Task.FromResult<List<Received>>([.. Received]);
                }

                var done = new TaskCompletionSource<List<Received>>(TaskCreationOptions.RunContinuationsAsynchronously);
                _waiters.Add((count, done));
                return done.Task.WaitAsync(Bound);
            }
        }
    }

    private sealed record Received(string DeviceId, string Body, long SequenceNumber, Dictionary<string, string> Properties, Dictionary<string, string> SystemProperties);
}
