using System.Buffers.Binary;
using System.Net;
using System.Net.Sockets;
using System.Text;
using Broker.Protocols.Amqp.Codec;
using Broker.Protocols.Amqp.Tests.Support;

namespace Broker.Protocols.Amqp.Tests.Server;

/// <summary>A byte-level AMQP peer over loopback TCP, for what a well-behaved client library will not send.</summary>
internal sealed class RawAmqpClient : IAsyncDisposable
{
    private static readonly TimeSpan s_bound = TimeSpan.FromSeconds(30);
    private readonly TcpClient _tcp;
    private readonly NetworkStream _stream;

    private RawAmqpClient(TcpClient tcp)
    {
        _tcp = tcp;
        _stream = tcp.GetStream();
    }

    public static async Task<RawAmqpClient> ConnectAsync(int port)
    {
        var tcp = new TcpClient();
        await tcp.ConnectAsync(IPAddress.Loopback, port).WaitAsync(s_bound);
        return new RawAmqpClient(tcp);
    }

    public Task SendAsync(byte[] bytes) => _stream.WriteAsync(bytes).AsTask().WaitAsync(s_bound);

    public Task SendFrameAsync<T>(in T performative, ushort channel = 0, byte[]? payload = null)
        where T : IAmqpPerformative, allows ref struct
        => SendAsync(Encoded.Frame(performative, channel, payload: payload));

    /// <summary>Sends the AMQP header and an open, and reads the server's header and open.</summary>
    public async Task<uint?> OpenAsync(uint? idleTimeOut = null, uint maxFrameSize = 65536)
    {
        await SendAsync([.. AmqpProtocolHeader.Amqp, .. Encoded.Frame(new AmqpOpen { ContainerId = "raw"u8, MaxFrameSize = maxFrameSize, IdleTimeOut = idleTimeOut })]);
        Assert.Equal(AmqpProtocolHeader.Amqp.ToArray(), await ReadExactlyAsync(8));
        (_, _, byte[] body) = await ReadFrameAsync();
        return AmqpOpen.Decode(body).IdleTimeOut;
    }

    public async Task<byte[]> ReadExactlyAsync(int count)
    {
        byte[] bytes = new byte[count];
        await _stream.ReadExactlyAsync(bytes).AsTask().WaitAsync(s_bound);
        return bytes;
    }

    public async Task<(AmqpFrameType Type, ushort Channel, byte[] Body)> ReadFrameAsync()
    {
        byte[] header = await ReadExactlyAsync(8);
        int size = (int)BinaryPrimitives.ReadUInt32BigEndian(header);
        byte[] rest = await ReadExactlyAsync(size - 8);
        return ((AmqpFrameType)header[5], BinaryPrimitives.ReadUInt16BigEndian(header.AsSpan(6)), rest[((header[4] * 4) - 8)..]);
    }

    /// <summary>Reads frames (at most 50) until a close; returns its error condition, or "" without one.</summary>
    public async Task<string> ReadUntilCloseAsync()
    {
        for (int i = 0; i < 50; i++)
        {
            (_, _, byte[] body) = await ReadFrameAsync();
            if (body.Length > 0 && AmqpPerformativeBody.PeekDescriptor(body) == AmqpDescriptor.Close)
            {
                return Encoding.ASCII.GetString(AmqpClose.Decode(body).Error.Condition);
            }
        }

        throw new InvalidOperationException("No close in 50 frames.");
    }

    /// <summary>True once the server has closed the socket (a read returns 0 bytes).</summary>
    public async Task<bool> IsClosedByPeerAsync()
    {
        byte[] one = new byte[1];
        try
        {
            return await _stream.ReadAsync(one).AsTask().WaitAsync(s_bound) == 0;
        }
        catch (IOException)
        {
            return true;
        }
    }

    public ValueTask DisposeAsync()
    {
        _tcp.Dispose();
        return ValueTask.CompletedTask;
    }
}
