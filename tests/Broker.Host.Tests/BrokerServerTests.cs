using System.Globalization;
using System.Net;
using System.Net.Sockets;
using Broker.Host.Hosting;
using Broker.Host.Tests.Support;
using Xunit.Abstractions;

namespace Broker.Host.Tests;

public sealed class BrokerServerTests(ITestOutputHelper output)
{
    [Fact]
    public async Task StartAsync_FreePorts_OpensTheBuiltListenersAndStopsCleanly()
    {
        var broker = await TestBroker.StartAsync(new TestBrokerOptions { Output = output });
        await using (broker)
        {
            Assert.True(File.Exists(Path.Combine(broker.DataDirectory, "store.json")));
            foreach (var listener in new[] { BrokerListener.Mqtt, BrokerListener.Mqtts, BrokerListener.Amqp, BrokerListener.Amqps, BrokerListener.Https })
            {
                int port = broker.GetPort(listener);
                Assert.NotEqual(0, port);
                using var client = new TcpClient();
                await client.ConnectAsync(IPAddress.Loopback, port);
            }

            int mqttPort = broker.MqttPort;
            await broker.Server.DisposeAsync();

            using var refused = new TcpClient();
            var exception = await Assert.ThrowsAsync<SocketException>(() => refused.ConnectAsync(IPAddress.Loopback, mqttPort));
            Assert.Equal(SocketError.ConnectionRefused, exception.SocketErrorCode);
        }
    }

    [Fact]
    public async Task StartAsync_ListenerPortZero_LeavesThatListenerClosed()
    {
        await using var broker = await TestBroker.StartAsync(new TestBrokerOptions
        {
            Output = output,
            // Every TLS listener off: without one, no certificate is needed.
            Settings = new Dictionary<string, string?>
            {
                [BrokerConfiguration.PortKey(BrokerListener.Mqtts)] = "0",
                [BrokerConfiguration.PortKey(BrokerListener.Amqps)] = "0",
                [BrokerConfiguration.PortKey(BrokerListener.Https)] = "0",
            },
        });

        Assert.True(broker.Server.Endpoints.IsOpen(BrokerListener.Mqtt));
        Assert.True(broker.Server.Endpoints.IsOpen(BrokerListener.Amqp));
        Assert.False(broker.Server.Endpoints.IsOpen(BrokerListener.Amqps));
        Assert.False(broker.Server.Endpoints.IsOpen(BrokerListener.Mqtts));
        Assert.False(broker.Server.Endpoints.IsOpen(BrokerListener.Https));
        Assert.Null(broker.Server.Endpoints.GetEndPoint(BrokerListener.Mqtts));
        Assert.Throws<InvalidOperationException>(() => broker.MqttsPort);
        // Without a TLS listener no certificate is needed, so none is made.
        Assert.Null(broker.Server.CertificateAuthorityPath);
        Assert.False(Directory.Exists(Path.Combine(broker.DataDirectory, "tls")));
    }

    [Fact]
    public async Task CreateAsync_EveryListenerOff_RefusesToStart()
    {
        var settings = new Dictionary<string, string?>();
        foreach (var listener in Enum.GetValues<BrokerListener>())
        {
            settings[BrokerConfiguration.PortKey(listener)] = "0";
        }

        await Assert.ThrowsAsync<InvalidDataException>(() => TestBroker.StartAsync(new TestBrokerOptions { Output = output, Settings = settings }));
    }

    [Fact]
    public async Task StartAsync_PortInUse_FailsAndReleasesTheStore()
    {
        var dataDirectory = TestBroker.CreateTemporaryDirectory();
        try
        {
            using var occupant = new TcpListener(IPAddress.Loopback, 0);
            occupant.Start();
            int taken = ((IPEndPoint)occupant.LocalEndpoint).Port;

            await Assert.ThrowsAnyAsync<IOException>(() => TestBroker.StartAsync(new TestBrokerOptions
            {
                Output = output,
                DataDirectory = dataDirectory,
                Settings = new Dictionary<string, string?> { [BrokerConfiguration.PortKey(BrokerListener.Mqtt)] = taken.ToString(CultureInfo.InvariantCulture) },
            }));

            // The failed start closed the store, so the same data directory opens again.
            await using var broker = await TestBroker.StartAsync(new TestBrokerOptions { Output = output, DataDirectory = dataDirectory });
            Assert.NotEqual(taken, broker.MqttPort);
        }
        finally
        {
            TestBroker.DeleteDirectory(dataDirectory);
        }
    }
}
