using System.Buffers;
using System.Globalization;
using System.Net.Sockets;
using System.Text;
using BenchmarkDotNet.Attributes;
using Broker.Core.Registry;
using Broker.Core.Security;
using Broker.Host.Hosting;
using Broker.Protocols.Mqtt.Codec;
using Microsoft.Extensions.DependencyInjection;

namespace Broker.Benchmarks.Mqtt;

/// <summary>
/// Connection accept + CONNECT + SAS authentication + CONNACK against an in-process broker over loopback TCP,
/// one connection after another (the figure is connections per second on one client).
/// </summary>
[MemoryDiagnoser]
public class ConnectBenchmarks
{
    private BrokerServer _server = null!;
    private string _directory = "";
    private int _port;
    private byte[] _connect = [];
    private readonly byte[] _connAck = new byte[4];

    [GlobalSetup]
    public async Task SetupAsync()
    {
        _directory = Path.Combine(Path.GetTempPath(), "broker-bench", Guid.NewGuid().ToString("N"));
        var overrides = new Dictionary<string, string?>(StringComparer.OrdinalIgnoreCase)
        {
            [BrokerConfiguration.DataDirectoryKey] = _directory,
            [BrokerConfiguration.BindKey] = "127.0.0.1",
        };
        foreach (var listener in Enum.GetValues<BrokerListener>())
        {
            overrides[BrokerConfiguration.PortKey(listener)] = listener == BrokerListener.Mqtt
                ? BrokerListenerOptions.AnyFreePort.ToString(CultureInfo.InvariantCulture)
                : "0";
        }

        overrides["Logging:LogLevel:Default"] = "Warning";
        _server = await BrokerServer.CreateAsync(new BrokerServerSettings { Overrides = overrides, UseAmbientSources = false });
        await _server.StartAsync();
        _port = _server.Endpoints.GetPort(BrokerListener.Mqtt);

        var registry = _server.Services.GetRequiredService<IdentityRegistry>();
        var device = await registry.CreateDeviceAsync(new Device { DeviceId = "bench-device" });
        var token = SasTokenBuilder.Create(SasTokenBuilder.ResourceFor(_server.HostName, "bench-device"),
            device.Authentication!.SymmetricKey!.PrimaryKey!, DateTimeOffset.UtcNow.AddHours(2));
        var writer = new ArrayBufferWriter<byte>();
        MqttPacketWriter.WriteConnect(writer, new MqttConnectContent
        {
            ClientId = "bench-device"u8,
            CleanSession = true,
            KeepAliveSeconds = 60,
            HasUserName = true,
            UserName = Encoding.UTF8.GetBytes($"{_server.HostName}/bench-device/?api-version=2021-04-12"),
            HasPassword = true,
            Password = Encoding.UTF8.GetBytes(token),
        });
        _connect = writer.WrittenSpan.ToArray();
    }

    [Benchmark]
    public async Task<int> ConnectAuthenticateDisconnect()
    {
        using var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        await socket.ConnectAsync(System.Net.IPAddress.Loopback, _port);
        await socket.SendAsync(_connect);
        int read = 0;
        while (read < 4)
        {
            int n = await socket.ReceiveAsync(_connAck.AsMemory(read));
            if (n == 0)
            {
                throw new InvalidOperationException("The broker closed the connection before CONNACK.");
            }

            read += n;
        }

        if (_connAck[3] != 0)
        {
            throw new InvalidOperationException($"CONNACK refused: {_connAck[3]}");
        }

        await socket.SendAsync(new byte[] { 0xE0, 0x00 }); // DISCONNECT
        return read;
    }

    [GlobalCleanup]
    public async Task CleanupAsync()
    {
        await _server.DisposeAsync();
        try
        {
            Directory.Delete(_directory, recursive: true);
        }
        catch (IOException)
        {
        }
    }
}
