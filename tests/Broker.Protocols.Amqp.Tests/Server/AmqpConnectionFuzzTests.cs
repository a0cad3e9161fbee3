using System.Net;
using System.Net.Sockets;
using Broker.Protocols.Amqp.Codec;
using Broker.Protocols.Amqp.Tests.Support;
using Xunit.Abstractions;

namespace Broker.Protocols.Amqp.Tests.Server;

/// <summary>
/// Mutated frames at a live engine after open, begin and attach: whatever they do, the engine answers in AMQP or
/// closes; it never fails with an unexpected exception (which it would log as a warning) and keeps serving.
/// </summary>
public sealed class AmqpConnectionFuzzTests(ITestOutputHelper output)
{
    private const int Seed = 0x454E47;
    private const int ConnectionCount = 300;
    private static readonly TimeSpan s_bound = TimeSpan.FromSeconds(30);

    [Fact]
    public async Task Engine_MutatedFramesAfterAttach_NeverFailsUnexpectedly()
    {
        var logs = new WarningLog();
        await using AmqpTestServer server = await AmqpTestServer.StartAsync(new TestLinks(), logs: logs, configure: o => o.MaxFrameSize = 16 * 1024);
        var random = new Random(Seed);
        IReadOnlyList<byte[]> corpus = Samples.AllFrames();
        byte[] begin = Encoded.Frame(new AmqpBegin { NextOutgoingId = 1, IncomingWindow = 100, OutgoingWindow = 100 });
        byte[] attach = Encoded.Frame(new AmqpAttach
        {
            Name = "s"u8, Handle = 1, Role = AmqpRole.Sender, InitialDeliveryCount = 0,
            Target = new AmqpTarget { IsPresent = true, Address = "accept"u8 },
        });
        byte[] open = [.. AmqpProtocolHeader.Amqp, .. Encoded.Frame(new AmqpOpen { ContainerId = "fuzz"u8 })];
        int closedWithError = 0;
        for (int i = 0; i < ConnectionCount; i++)
        {
            var input = new List<byte>(open);
            input.AddRange(begin);
            input.AddRange(attach);
            for (int f = random.Next(1, 4); f > 0; f--)
            {
                input.AddRange(Mutate(random, corpus[random.Next(corpus.Count)]));
            }

            using var tcp = new TcpClient();
            await tcp.ConnectAsync(IPAddress.Loopback, server.Port).WaitAsync(s_bound);
            NetworkStream stream = tcp.GetStream();
            await stream.WriteAsync(input.ToArray()).AsTask().WaitAsync(s_bound);
            tcp.Client.Shutdown(SocketShutdown.Send); // end of input: the engine finishes or waits no longer

            // Read everything the engine answers until it closes the socket.
            byte[] buffer = new byte[64 * 1024];
            var received = new List<byte>();
            int read;
            while ((read = await stream.ReadAsync(buffer).AsTask().WaitAsync(s_bound)) > 0)
            {
                received.AddRange(buffer.AsSpan(0, read).ToArray());
            }

            if (ContainsCloseWithError(received.ToArray()))
            {
                closedWithError++;
            }
        }

        output.WriteLine($"{ConnectionCount} connections, {closedWithError} closed with an AMQP error");
        Assert.Empty(logs.Entries);
        Assert.True(closedWithError > ConnectionCount / 10, $"only {closedWithError} connections provoked an AMQP error");

        // Still serving.
        await using RawAmqpClient client = await RawAmqpClient.ConnectAsync(server.Port);
        await client.OpenAsync();
    }

    private static bool ContainsCloseWithError(byte[] received)
    {
        var buffer = new System.Buffers.ReadOnlySequence<byte>(received[8..]); // after the protocol header
        while (AmqpFrameReader.TryReadFrame(buffer, uint.MaxValue, out AmqpFrame frame, out SequencePosition end, out _) == System.Buffers.OperationStatus.Done)
        {
            byte[] body = System.Buffers.BuffersExtensions.ToArray(frame.Body);
            if (body.Length > 0 && AmqpPerformativeBody.PeekDescriptor(body) == AmqpDescriptor.Close && AmqpClose.Decode(body).Error.IsPresent)
            {
                return true;
            }

            buffer = buffer.Slice(end);
        }

        return false;
    }

    private static byte[] Mutate(Random random, byte[] frame)
    {
        byte[] bytes = frame.ToArray();
        for (int e = random.Next(0, 3); e > 0; e--)
        {
            int position = bytes.Length > 8 ? 8 + random.Next(bytes.Length - 8) : random.Next(bytes.Length);
            bytes[position] = random.Next(3) switch
            {
                0 => (byte)(bytes[position] ^ (1 << random.Next(8))),
                1 => (byte)random.Next(256),
                _ => (byte)(bytes[position] + 1),
            };
        }

        return bytes;
    }
}
