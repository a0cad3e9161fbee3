using Broker.IntegrationTests.Support;
using Broker.Host.Tests.Support;
using Broker.Management.V1;

namespace Broker.IntegrationTests.Telemetry;

/// <summary>Issue #5: telemetry and consumer-group checkpoints survive a broker restart on the same data directory.</summary>
[Collection(TelemetryCollection.Name)]
public sealed class TelemetryRestartTests
{
    private const int Devices = 20;
    private const int Half = 50;
    private const string Group = "restart-readers";
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(120);

    [Fact]
    public async Task Restart_KeepsEveryAcknowledgedEvent_AndACheckpointedGroupResumesAfterItsCheckpoint()
    {
        await RunAsync().WaitAsync(Bound);

        static async Task RunAsync()
        {
            await using var broker = await TestBroker.StartAsync();
            var tokens = await TelemetryTraffic.CreateDevicesAsync(broker, "restart", Devices);

            await TelemetryTraffic.PublishAsync(broker, tokens, 0, Half);
            using (var api = ManagementApi.Connect(broker.DataDirectory, broker.ManagementPort))
            {
                await api.Events.CreateConsumerGroupAsync(new ConsumerGroupRequest { Name = Group }, api.Call());
                var before = await api.ReadCountAsync(new ReadEventsRequest { ConsumerGroup = Group, Start = StartPosition.Start }, Devices * Half, Bound);
                TelemetryTraffic.AssertExactly(tokens.Keys, 0, Half, before);
                foreach (var last in before.GroupBy(e => e.Partition).Select(partition => partition.Last()))
                {
                    await api.Events.CommitCheckpointAsync(new CommitCheckpointRequest { Partition = last.Partition, ConsumerGroup = Group, Offset = last.Offset }, api.Call());
                }
            }

            await broker.RestartAsync();

            await TelemetryTraffic.PublishAsync(broker, tokens, Half, 2 * Half);
            Assert.Equal(Devices * 2 * Half, TelemetryTraffic.StoredEventCount(broker));
            using (var api = ManagementApi.Connect(broker.DataDirectory, broker.ManagementPort))
            {
                var everything = await api.ReadCountAsync(new ReadEventsRequest { Start = StartPosition.Start }, Devices * 2 * Half, Bound);
                TelemetryTraffic.AssertExactly(tokens.Keys, 0, 2 * Half, everything);

                // From its checkpoint the group reads only what came after: exactly the second half.
                var resumed = await api.ReadCountAsync(new ReadEventsRequest { ConsumerGroup = Group, Start = StartPosition.Checkpoint }, Devices * Half, Bound);
                TelemetryTraffic.AssertExactly(tokens.Keys, Half, 2 * Half, resumed);

                // A group with no checkpoint starts at the beginning.
                var fresh = await api.ReadCountAsync(new ReadEventsRequest { Start = StartPosition.Checkpoint }, Devices * 2 * Half, Bound);
                TelemetryTraffic.AssertExactly(tokens.Keys, 0, 2 * Half, fresh);
            }
        }
    }
}
