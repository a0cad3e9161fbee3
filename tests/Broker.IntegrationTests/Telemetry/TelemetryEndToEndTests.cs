using Broker.IntegrationTests.Support;
using Broker.Host.Tests.Support;
using Broker.Management.V1;

namespace Broker.IntegrationTests.Telemetry;

/// <summary>Issue #5: telemetry from many MQTT devices, read back through the events API by two consumer groups.</summary>
[Collection(TelemetryCollection.Name)]
public sealed class TelemetryEndToEndTests
{
    private const int Devices = 100;
    private const int MessagesPerDevice = 100;
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(120);

    [Fact]
    public async Task TenThousandQos1Messages_AreReadExactlyOnceInOrderByEachConsumerGroup()
    {
        await RunAsync().WaitAsync(Bound);

        static async Task RunAsync()
        {
            await using var broker = await TestBroker.StartAsync();
            var tokens = await TelemetryTraffic.CreateDevicesAsync(broker, "e2e", Devices);

            await TelemetryTraffic.PublishAsync(broker, tokens, 0, MessagesPerDevice);

            Assert.Equal(Devices * MessagesPerDevice, TelemetryTraffic.StoredEventCount(broker)); // nothing stored twice
            using var api = ManagementApi.Connect(broker.DataDirectory, broker.ManagementPort);
            await api.Events.CreateConsumerGroupAsync(new ConsumerGroupRequest { Name = "e2e-readers" }, api.Call());
            var reads = new[] { "$Default", "e2e-readers" }.Select(group => api.ReadCountAsync(
                new ReadEventsRequest { ConsumerGroup = group, Start = StartPosition.Start }, Devices * MessagesPerDevice, Bound));
            var results = await Task.WhenAll(reads);

            foreach (var events in results)
            {
                TelemetryTraffic.AssertExactly(tokens.Keys, 0, MessagesPerDevice, events);
            }
        }
    }
}

/// <summary>The telemetry tests load the machine (hundreds of connections, a child broker): they run one at a time.</summary>
[CollectionDefinition(Name)]
public sealed class TelemetryCollection
{
    public const string Name = "Telemetry";
}
