using Amqp;
using Amqp.Framing;
using Broker.Host.Tests.Support;
using Microsoft.Extensions.Time.Testing;
using Xunit.Abstractions;
using static Broker.IntegrationTests.Amqp.AmqpClient;

namespace Broker.IntegrationTests.Amqp;

/// <summary>Issue #7: a CBS token that expires detaches the links it authorised; a refreshed one keeps them.</summary>
public sealed class AmqpTokenExpiryTests(ITestOutputHelper output)
{
    [Fact]
    public async Task ExpiringToken_DetachesItsLinksWithUnauthorizedAccess_UnlessRefreshed()
    {
        var time = new FakeTimeProvider(DateTimeOffset.UtcNow);
        await using var broker = await TestBroker.StartAsync(new TestBrokerOptions
        {
            Output = output,
            Time = time,
            // Idle timeouts would also fire as the clock jumps; this test is about tokens.
            Settings = new Dictionary<string, string?> { ["Amqp:IdleTimeout"] = "00:00:00" },
        });
        var device = await broker.CreateDeviceAsync("amqp-expiry");
        string key = TestBroker.PrimaryKeyOf(device);
        var connection = await ConnectAsync(broker, Auth.NoSasl);
        try
        {
            var session = new Session(connection);
            string audience = DeviceAudience(broker, device.DeviceId);
            Assert.Equal(200, (await PutTokenAsync(session, audience, TokenUntil(broker, device.DeviceId, key, time.GetUtcNow().AddMinutes(10)))).Status);
            var sender = await AttachSenderAsync(session, "events", $"/devices/{device.DeviceId}/messages/events");
            var closed = new TaskCompletionSource<Error?>(TaskCreationOptions.RunContinuationsAsynchronously);
            sender.AddClosedCallback((_, error) => closed.TrySetResult(error));

            // Refreshed before it expires: the link survives the first token's expiry.
            Assert.Equal(200, (await PutTokenAsync(session, audience, TokenUntil(broker, device.DeviceId, key, time.GetUtcNow().AddMinutes(20)))).Status);
            time.Advance(TimeSpan.FromMinutes(11));
            await sender.SendAsync(new Message("after the first expiry"));
            Assert.False(closed.Task.IsCompleted);

            time.Advance(TimeSpan.FromMinutes(10));
            var error = await closed.Task.WaitAsync(Bound);
            Assert.NotNull(error);
            Assert.Equal("amqp:unauthorized-access", error.Condition.ToString());

            // And a new link needs a new token.
            var refused = await Assert.ThrowsAsync<AmqpException>(() => AttachSenderAsync(session, "events-2", $"/devices/{device.DeviceId}/messages/events"));
            Assert.Equal("amqp:unauthorized-access", refused.Error.Condition.ToString());
        }
        finally
        {
            await connection.CloseAsync();
        }
    }

    private static string TokenUntil(TestBroker broker, string deviceId, string key, DateTimeOffset expiresAt)
        => Broker.Core.Security.SasTokenBuilder.Create($"{broker.HostName}/devices/{deviceId}", key, expiresAt);
}
