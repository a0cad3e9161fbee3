using Broker.Core.Storage;
using Broker.Host.Tests.Support;
using Broker.IntegrationTests.Support;
using Microsoft.Extensions.DependencyInjection;
using Xunit.Abstractions;

namespace Broker.IntegrationTests.Mqtt;

/// <summary>
/// A persistent session's SUBACK and UNSUBACK tell the device its subscriptions are kept across a crash, so they
/// go out only once the session record is durable. Commits here linger two seconds, long enough that an
/// acknowledgement sent before its commit would be seen while the state log's durable address is still behind.
/// </summary>
public sealed class PersistentSessionAcknowledgementTests(ITestOutputHelper output) : IAsyncLifetime
{
    private TestBroker _broker = null!;

    public async Task InitializeAsync()
        => _broker = await TestBroker.StartAsync(new TestBrokerOptions
        {
            Output = output,
            Settings = new Dictionary<string, string?> { ["Storage:GroupCommit:MaxDelay"] = "00:00:02" },
        });

    public async Task DisposeAsync() => await _broker.DisposeAsync();

    [Fact]
    public async Task SubAckAndUnsubAck_OfAPersistentSession_FollowTheDurabilityOfItsRecord()
    {
        var device = await _broker.CreateDeviceAsync("persistent-ack");
        var state = _broker.Services.GetRequiredService<IHubStore>().GetPartitionFor(device.DeviceId).State;
        await using var client = await TestDevice.ConnectAsync(_broker, device.DeviceId, TestBroker.PrimaryKeyOf(device), cleanSession: false);

        // A marker written just before the SUBSCRIBE: the session record comes after it in the same log.
        long marker = state.Upsert(StateRecordKind.Hub, "test-marker"u8, [1]);
        Assert.True(state.DurableAddress < marker, "the marker is already durable: the commit linger did not hold it");
        await client.SubscribeCloudToDeviceAsync();
        Assert.True(state.DurableAddress >= marker, "SUBACK arrived before the persistent session record was durable");

        marker = state.Upsert(StateRecordKind.Hub, "test-marker"u8, [2]);
        Assert.True(state.DurableAddress < marker, "the marker is already durable: the commit linger did not hold it");
        await client.Client.UnsubscribeAsync(new MQTTnet.MqttClientUnsubscribeOptionsBuilder().WithTopicFilter($"devices/{device.DeviceId}/messages/devicebound/#").Build());
        Assert.True(state.DurableAddress >= marker, "UNSUBACK arrived before the persistent session record was durable");
    }
}
