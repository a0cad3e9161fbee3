using Broker.Core.Security;
using Broker.Host.Tests.Support;
using Microsoft.Azure.Amqp;
using Microsoft.Azure.Amqp.Framing;
using Microsoft.Extensions.Time.Testing;
using Xunit.Abstractions;
using static Broker.IntegrationTests.Amqp.AzureAmqpClient;

namespace Broker.IntegrationTests.Amqp;

/// <summary>
/// Issue #7, with Microsoft.Azure.Amqp: a CBS token (put with <see cref="AmqpCbsLink"/>, as the C# SDK does) that
/// expires detaches the links it authorised with amqp:unauthorized-access; a refreshed one keeps them.
/// </summary>
public sealed class AzureAmqpTokenExpiryTests(ITestOutputHelper output)
{
    [Fact]
    public async Task ExpiringCbsToken_DetachesTheDeviceLinks_UnlessRefreshed()
    {
        var time = new FakeTimeProvider(DateTimeOffset.UtcNow);
        await using var broker = await TestBroker.StartAsync(new TestBrokerOptions
        {
            Output = output,
            Time = time,
            // Idle timeouts would also fire as the clock jumps; this test is about tokens.
            Settings = new Dictionary<string, string?> { ["Amqp:IdleTimeout"] = "00:00:00" },
        });
        var device = await broker.CreateDeviceAsync("azure-expiry");
        string key = TestBroker.PrimaryKeyOf(device);
        string audience = $"{broker.HostName}/devices/{device.DeviceId}";
        var connection = await ConnectAsync(broker, AmqpClient.Auth.NoSasl);
        try
        {
            await PutTokenAsync(broker, connection, audience, SasTokenBuilder.Create(audience, key, time.GetUtcNow().AddMinutes(10)));
            var session = await OpenSessionAsync(connection);
            var telemetry = await OpenDeviceSenderAsync(session, device.DeviceId, DeviceAddress(broker, device.DeviceId, "messages/events"), "TelemetrySenderLink");
            var cloudToDevice = await OpenDeviceReceiverAsync(session, device.DeviceId, DeviceAddress(broker, device.DeviceId, "messages/deviceBound"),
                "TelemetryReceiverLink", senderSettle: null, ReceiverSettleMode.Second);
            var telemetryClosed = ClosedTask(telemetry);
            var cloudToDeviceClosed = ClosedTask(cloudToDevice);

            // Refreshed before it expires (as the SDK's refresh timer does): the links survive the first token's expiry.
            await PutTokenAsync(broker, connection, audience, SasTokenBuilder.Create(audience, key, time.GetUtcNow().AddMinutes(20)));
            time.Advance(TimeSpan.FromMinutes(11));
            using (var message = AmqpMessage.Create(new Data { Value = new ArraySegment<byte>("after the first expiry"u8.ToArray()) }))
            {
                var outcome = await telemetry.SendMessageAsync(message, new ArraySegment<byte>(Guid.NewGuid().ToByteArray()), AmqpConstants.NullBinary, Bound);
                Assert.Equal(Accepted.Code, outcome.DescriptorCode);
            }

            Assert.False(telemetryClosed.IsCompleted);
            Assert.False(cloudToDeviceClosed.IsCompleted);

            time.Advance(TimeSpan.FromMinutes(10));
            foreach (var closed in new[] { telemetryClosed, cloudToDeviceClosed })
            {
                var error = Assert.IsType<AmqpException>(await closed.WaitAsync(Bound));
                Assert.Equal("amqp:unauthorized-access", error.Error.Condition.Value);
            }

            // A new link needs a new token.
            var refused = await Assert.ThrowsAsync<AmqpException>(() => OpenDeviceSenderAsync(session, device.DeviceId,
                DeviceAddress(broker, device.DeviceId, "messages/events"), "TelemetrySenderLink2"));
            Assert.Equal("amqp:unauthorized-access", refused.Error.Condition.Value);
        }
        finally
        {
            await connection.CloseAsync(Bound);
        }
    }

    /// <summary>Completes with the link's terminal exception when the peer closes it.</summary>
    private static Task<Exception?> ClosedTask(AmqpLink link)
    {
        var closed = new TaskCompletionSource<Exception?>(TaskCreationOptions.RunContinuationsAsynchronously);
        link.Closed += (_, _) => closed.TrySetResult(link.TerminalException);
        return closed.Task;
    }
}
