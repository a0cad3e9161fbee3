using Broker.Protocols.Amqp.Codec;
using Broker.Protocols.Amqp.Server;
using Broker.Protocols.Amqp.Tests.Support;
using Microsoft.Extensions.Time.Testing;

namespace Broker.Protocols.Amqp.Tests.Server;

/// <summary>Deadlines, heartbeats and protocol violations, driven byte by byte over loopback.</summary>
public sealed class AmqpConnectionProtocolTests
{
    [Fact]
    public async Task IdlePeer_GetsHeartbeatsThenAnIdleTimeoutClose()
    {
        var time = new FakeTimeProvider();
        await using AmqpTestServer server = await AmqpTestServer.StartAsync(new TestLinks(), time: time, configure: o =>
        {
            o.IdleTimeout = TimeSpan.FromSeconds(10);
            o.SweepInterval = TimeSpan.FromSeconds(1);
        });
        await using RawAmqpClient client = await RawAmqpClient.ConnectAsync(server.Port);
        Assert.Equal(10_000u, await client.OpenAsync(idleTimeOut: 4_000));

        // The peer wants a frame at least every 4 s: after 2 s of silence it gets an empty one.
        time.Advance(TimeSpan.FromSeconds(2));
        (_, _, byte[] heartbeat) = await client.ReadFrameAsync();
        Assert.Empty(heartbeat);

        // Nothing from the peer for longer than the 10 s announced: closed with an error, then the socket.
        time.Advance(TimeSpan.FromSeconds(9));
        Assert.Equal("amqp:connection:forced", await client.ReadUntilCloseAsync());
        Assert.True(await client.IsClosedByPeerAsync());
    }

    [Fact]
    public async Task PeerHeartbeats_KeepTheConnectionOpen()
    {
        var time = new FakeTimeProvider();
        await using AmqpTestServer server = await AmqpTestServer.StartAsync(new TestLinks(), time: time, configure: o =>
        {
            o.IdleTimeout = TimeSpan.FromSeconds(10);
            o.SweepInterval = TimeSpan.FromSeconds(1);
        });
        await using RawAmqpClient client = await RawAmqpClient.ConnectAsync(server.Port);
        await client.OpenAsync();
        for (int i = 0; i < 3; i++)
        {
            await client.SendAsync([0, 0, 0, 8, 2, 0, 0, 0]);

            // A begin/answer round trip proves the heartbeat was read before time moves on.
            await client.SendFrameAsync(new AmqpBegin { NextOutgoingId = 1, IncomingWindow = 10, OutgoingWindow = 10 }, channel: (ushort)i);
            (_, _, byte[] begin) = await client.ReadFrameAsync();
            Assert.Equal((ushort)i, AmqpBegin.Decode(begin).RemoteChannel);
            time.Advance(TimeSpan.FromSeconds(6));
        }

        await client.SendFrameAsync(new AmqpClose());
        Assert.Equal(string.Empty, await client.ReadUntilCloseAsync());
    }

    [Fact]
    public async Task NoOpen_ConnectionIsDroppedAfterTheOpenTimeout()
    {
        var time = new FakeTimeProvider();
        await using AmqpTestServer server = await AmqpTestServer.StartAsync(new TestLinks(), time: time, configure: o => o.OpenTimeout = TimeSpan.FromSeconds(5));
        await using RawAmqpClient client = await RawAmqpClient.ConnectAsync(server.Port);
        await client.SendAsync([.. AmqpProtocolHeader.Amqp]);
        Assert.Equal(AmqpProtocolHeader.Amqp.ToArray(), await client.ReadExactlyAsync(8));
        time.Advance(TimeSpan.FromSeconds(6));
        Assert.True(await client.IsClosedByPeerAsync());
    }

    [Theory]
    [InlineData("41 4D 51 50 00 00 09 01")] // AMQP 0-9-1
    [InlineData("47 45 54 20 2F 20 48 54")] // HTTP
    [InlineData("41 4D 51 50 02 01 00 00")] // TLS over a plain listener
    public async Task UnsupportedProtocolHeader_IsAnsweredWithOursThenClosed(string hex)
    {
        await using AmqpTestServer server = await AmqpTestServer.StartAsync(new TestLinks(), new TestAuthenticator());
        await using RawAmqpClient client = await RawAmqpClient.ConnectAsync(server.Port);
        await client.SendAsync(Hex.Parse(hex));
        Assert.Equal(AmqpProtocolHeader.Amqp.ToArray(), await client.ReadExactlyAsync(8));
        Assert.True(await client.IsClosedByPeerAsync());
    }

    [Fact]
    public async Task PlainHeader_WhenSaslIsRequired_IsAnsweredWithTheSaslHeaderThenClosed()
    {
        await using AmqpTestServer server = await AmqpTestServer.StartAsync(new TestLinks(), new TestAuthenticator(), o => o.AllowNoSasl = false);
        await using RawAmqpClient client = await RawAmqpClient.ConnectAsync(server.Port);
        await client.SendAsync([.. AmqpProtocolHeader.Amqp]);
        Assert.Equal(AmqpProtocolHeader.Sasl.ToArray(), await client.ReadExactlyAsync(8));
        Assert.True(await client.IsClosedByPeerAsync());
    }

    public static TheoryData<string, string> Violations => new()
    {
        { "frame larger than max-frame-size", "amqp:connection:framing-error" },
        { "malformed performative", "amqp:decode-error" },
        { "frame on a channel without session", "amqp:not-found" },
        { "begin on a channel in use", "amqp:not-allowed" },
        { "attach on a handle in use", "amqp:session:handle-in-use" },
        { "transfer on a link this side sends on", "amqp:not-allowed" },
        { "transfer without delivery-id", "amqp:invalid-field" },
        { "transfer without credit", "amqp:link:transfer-limit-exceeded" },
        { "flow for an unattached handle", "amqp:session:unattached-handle" },
        { "sasl frame after open", "amqp:not-allowed" },
        { "second open", "amqp:not-allowed" },
    };

    [Theory]
    [MemberData(nameof(Violations))]
    public async Task ProtocolViolation_ClosesTheConnectionWithAnAmqpError(string violation, string condition)
    {
        var links = new TestLinks();
        await using AmqpTestServer server = await AmqpTestServer.StartAsync(links, configure: o =>
        {
            o.MaxFrameSize = 4096;
            o.LinkCredit = 1;
            o.SessionWindow = 2;
        });
        await using RawAmqpClient client = await RawAmqpClient.ConnectAsync(server.Port);
        await client.OpenAsync();
        byte[] begin = Encoded.Frame(new AmqpBegin { NextOutgoingId = 1, IncomingWindow = 100, OutgoingWindow = 100 });
        byte[] attach = Encoded.Frame(new AmqpAttach
        {
            Name = "s"u8, Handle = 0, Role = AmqpRole.Sender, InitialDeliveryCount = 0,
            Source = new AmqpSource { IsPresent = true, Address = "raw"u8 },
            Target = new AmqpTarget { IsPresent = true, Address = "accept"u8 },
        });
        byte[] message = Encoded.With((ref AmqpWriter w) => AmqpMessageWriter.WriteData(ref w, [1, 2, 3]));
        switch (violation)
        {
            case "frame larger than max-frame-size":
                await client.SendAsync([0, 0, 0x20, 0, 2, 0, 0, 0]); // 8 KiB declared, nothing more sent
                break;
            case "malformed performative":
                await client.SendAsync(begin);
                await client.SendAsync([0, 0, 0, 13, 2, 0, 0, 0, 0, 0x53, 0x13, 0xC0, 0x05]);
                break;
            case "frame on a channel without session":
                await client.SendFrameAsync(new AmqpFlow { IncomingWindow = 1, NextOutgoingId = 1, OutgoingWindow = 1 }, channel: 3);
                break;
            case "begin on a channel in use":
                await client.SendAsync(begin);
                await client.SendAsync(begin);
                break;
            case "attach on a handle in use":
                await client.SendAsync(begin);
                await client.SendAsync(attach);
                await client.SendAsync(attach);
                break;
            case "transfer on a link this side sends on":
                await client.SendAsync(begin);
                await client.SendAsync(Encoded.Frame(new AmqpAttach
                {
                    Name = "r"u8, Handle = 0, Role = AmqpRole.Receiver,
                    Source = new AmqpSource { IsPresent = true, Address = "outbound"u8 },
                    Target = new AmqpTarget { IsPresent = true, Address = "raw"u8 },
                }));
                await client.SendFrameAsync(new AmqpTransfer { Handle = 0, DeliveryId = 0, DeliveryTag = [0], Settled = true }, payload: message);
                break;
            case "transfer without credit":
                await client.SendAsync(begin);
                await client.SendAsync(Encoded.Frame(new AmqpAttach
                {
                    Name = "m"u8, Handle = 0, Role = AmqpRole.Sender, InitialDeliveryCount = 0,
                    Source = new AmqpSource { IsPresent = true, Address = "raw"u8 },
                    Target = new AmqpTarget { IsPresent = true, Address = "manual"u8 },
                }));
                await client.SendFrameAsync(new AmqpTransfer { Handle = 0, DeliveryId = 0, DeliveryTag = [0], Settled = true }, payload: message);
                await client.SendFrameAsync(new AmqpTransfer { Handle = 0, DeliveryId = 1, DeliveryTag = [1], Settled = true }, payload: message);
                break;
            case "transfer without delivery-id":
                await client.SendAsync(begin);
                await client.SendAsync(attach);
                await client.SendFrameAsync(new AmqpTransfer { Handle = 0 }, payload: message);
                break;
            case "flow for an unattached handle":
                await client.SendAsync(begin);
                await client.SendFrameAsync(new AmqpFlow { IncomingWindow = 1, NextOutgoingId = 1, OutgoingWindow = 1, Handle = 9, LinkCredit = 1, DeliveryCount = 0 });
                break;
            case "sasl frame after open":
                await client.SendFrameAsync(new AmqpSaslInit { Mechanism = "PLAIN"u8 }, payload: null);
                await client.SendAsync(Encoded.Frame(new AmqpSaslInit { Mechanism = "PLAIN"u8 }, type: AmqpFrameType.Sasl));
                break;
            case "second open":
                await client.SendFrameAsync(new AmqpOpen { ContainerId = "again"u8 });
                break;
        }

        Assert.Equal(condition, await client.ReadUntilCloseAsync());
        Assert.True(await client.IsClosedByPeerAsync());
    }

    [Fact]
    public async Task ManualCredit_GrantedByTheApplication_IsAnnouncedAndConsumed()
    {
        var links = new TestLinks();
        await using AmqpTestServer server = await AmqpTestServer.StartAsync(links);
        await using RawAmqpClient client = await RawAmqpClient.ConnectAsync(server.Port);
        await client.OpenAsync();
        await client.SendAsync(Encoded.Frame(new AmqpBegin { NextOutgoingId = 1, IncomingWindow = 100, OutgoingWindow = 100 }));
        await client.SendAsync(Encoded.Frame(new AmqpAttach
        {
            Name = "m"u8, Handle = 0, Role = AmqpRole.Sender, InitialDeliveryCount = 0,
            Target = new AmqpTarget { IsPresent = true, Address = "manual"u8 },
        }));
        await client.ReadFrameAsync(); // begin
        await client.ReadFrameAsync(); // attach
        (_, _, byte[] flow) = await client.ReadFrameAsync();
        Assert.Equal(1u, AmqpFlow.Decode(flow).LinkCredit);

        byte[] message = Encoded.With((ref AmqpWriter w) => AmqpMessageWriter.WriteData(ref w, [9]));
        await client.SendFrameAsync(new AmqpTransfer { Handle = 0, DeliveryId = 0, DeliveryTag = [0] }, payload: message);
        (AmqpLink link, _) = await links.Received.Reader.ReadAsync().AsTask().WaitAsync(TimeSpan.FromSeconds(30));
        (_, _, byte[] disposition) = await client.ReadFrameAsync();
        Assert.Equal(AmqpDeliveryStateKind.Accepted, AmqpDisposition.Decode(disposition).State.Kind);
        Assert.Equal(0u, link.Credit);

        link.GrantCredit(5);
        (_, _, flow) = await client.ReadFrameAsync();
        Assert.Equal((5u, 1u), (AmqpFlow.Decode(flow).LinkCredit!.Value, AmqpFlow.Decode(flow).DeliveryCount!.Value));
    }

    [Fact]
    public async Task MessageLargerThanMaxMessageSize_DetachesTheLinkWithMessageSizeExceeded()
    {
        await using AmqpTestServer server = await AmqpTestServer.StartAsync(new TestLinks(), configure: o => o.MaxMessageSize = 1000);
        await using RawAmqpClient client = await RawAmqpClient.ConnectAsync(server.Port);
        await client.OpenAsync();
        await client.SendAsync(Encoded.Frame(new AmqpBegin { NextOutgoingId = 1, IncomingWindow = 100, OutgoingWindow = 100 }));
        await client.SendAsync(Encoded.Frame(new AmqpAttach
        {
            Name = "s"u8, Handle = 0, Role = AmqpRole.Sender, InitialDeliveryCount = 0,
            Target = new AmqpTarget { IsPresent = true, Address = "accept"u8 },
        }));
        byte[] big = Encoded.With((ref AmqpWriter w) => AmqpMessageWriter.WriteData(ref w, new byte[600]));
        await client.SendFrameAsync(new AmqpTransfer { Handle = 0, DeliveryId = 0, DeliveryTag = [0], More = true }, payload: big);
        await client.SendFrameAsync(new AmqpTransfer { Handle = 0, More = false }, payload: big);
        for (int i = 0; i < 10; i++)
        {
            (_, _, byte[] body) = await client.ReadFrameAsync();
            if (AmqpPerformativeBody.PeekDescriptor(body) == AmqpDescriptor.Detach)
            {
                AmqpDetach detach = AmqpDetach.Decode(body);
                Assert.Equal("amqp:link:message-size-exceeded", System.Text.Encoding.ASCII.GetString(detach.Error.Condition));
                Assert.True(detach.Closed);
                return;
            }
        }

        Assert.Fail("No detach.");
    }
}
