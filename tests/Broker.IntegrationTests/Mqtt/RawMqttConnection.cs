using System.Buffers;
using System.Net.Sockets;
using System.Text;
using Broker.Protocols.Mqtt.Codec;

namespace Broker.IntegrationTests.Mqtt;

/// <summary>A bare TCP connection for sending exactly the bytes a test wants, malformed ones included.</summary>
internal sealed class RawMqttConnection : IAsyncDisposable
{
    private readonly TcpClient _client = new();
    private NetworkStream? _stream;

    public static async Task<RawMqttConnection> OpenAsync(int port)
    {
        var connection = new RawMqttConnection();
        await connection._client.ConnectAsync("127.0.0.1", port);
        connection._stream = connection._client.GetStream();
        return connection;
    }

    public async Task SendAsync(byte[] bytes) => await _stream!.WriteAsync(bytes);

    /// <summary>Opens a connection, sends CONNECT for <paramref name="deviceId"/> and asserts CONNACK accepted within <paramref name="bound"/>.</summary>
    public static async Task<RawMqttConnection> ConnectAcceptedAsync(int port, string deviceId, string userName, string token, TimeSpan bound, ushort keepAliveSeconds = 60)
    {
        var raw = await OpenAsync(port);
        await raw.SendAsync(Connect(deviceId, userName, token, keepAliveSeconds));
        using var timeout = new CancellationTokenSource(bound);
        Assert.Equal(new byte[] { 0x20, 0x02, 0x00, 0x00 }, await raw.ReadAsync(4, timeout.Token));
        return raw;
    }

    public static byte[] Connect(string clientId, string? userName, string? password, ushort keepAliveSeconds = 60)
    {
        var writer = new ArrayBufferWriter<byte>();
        MqttPacketWriter.WriteConnect(writer, new MqttConnectContent
        {
            ClientId = Encoding.UTF8.GetBytes(clientId),
            CleanSession = true,
            KeepAliveSeconds = keepAliveSeconds,
            HasUserName = userName is not null,
            UserName = userName is null ? default : Encoding.UTF8.GetBytes(userName),
            HasPassword = password is not null,
            Password = password is null ? default : Encoding.UTF8.GetBytes(password),
        });
        return writer.WrittenSpan.ToArray();
    }

    public static byte[] Publish(string topic, byte[] payload, MqttQualityOfService qos, ushort packetId = 1)
    {
        var writer = new ArrayBufferWriter<byte>();
        MqttPacketWriter.WritePublish(writer, Encoding.UTF8.GetBytes(topic), qos == MqttQualityOfService.AtMostOnce ? (ushort)0 : packetId, qos, false, false, payload);
        return writer.WrittenSpan.ToArray();
    }

    /// <summary>Reads exactly <paramref name="count"/> bytes, or fewer if the broker closes first.</summary>
    public async Task<byte[]> ReadAsync(int count, CancellationToken cancellationToken)
    {
        var buffer = new byte[count];
        int read = 0;
        while (read < count)
        {
            int n = await _stream!.ReadAsync(buffer.AsMemory(read), cancellationToken);
            if (n == 0)
            {
                break;
            }

            read += n;
        }

        return buffer[..read];
    }

    /// <summary>Completes when the broker closes the connection (reads until end of stream); fails if it stays open past <paramref name="bound"/>.</summary>
    public async Task WaitForCloseAsync(TimeSpan bound)
    {
        using var timeout = new CancellationTokenSource(bound);
        var buffer = new byte[4096];
        try
        {
            while (await _stream!.ReadAsync(buffer, timeout.Token) > 0)
            {
            }
        }
        catch (IOException)
        {
            // a reset is a close too
        }
        catch (OperationCanceledException) when (timeout.IsCancellationRequested)
        {
            Assert.Fail($"The broker did not close the connection within {bound}.");
        }
    }

    public ValueTask DisposeAsync()
    {
        _client.Dispose();
        return ValueTask.CompletedTask;
    }
}
