using System.Text;
using Amqp;
using Amqp.Framing;
using Amqp.Sasl;
using Broker.Protocols.Amqp.Codec;
using Broker.Protocols.Amqp.Server;

namespace Broker.Protocols.Amqp.Tests.Server;

/// <summary>The connection engine against a real client (AMQPNetLite) over loopback TCP.</summary>
public sealed class AmqpConnectionTests
{
    private static readonly TimeSpan s_bound = TimeSpan.FromSeconds(30);

    [Fact]
    public async Task SaslPlain_ValidCredentials_TelemetryIsAcceptedAndDecodable()
    {
        var links = new TestLinks();
        await using AmqpTestServer server = await AmqpTestServer.StartAsync(links, new TestAuthenticator());
        Connection connection = await Connect(server, "dev1:secret@");
        var session = new Session(connection);
        var sender = new SenderLink(session, "rheaSender_1", "accept");

        var message = new Message
        {
            BodySection = new Data { Binary = Encoding.UTF8.GetBytes("{\"t\":21.5}") },
            Properties = new Properties { To = "accept", ContentType = "application/json" },
            ApplicationProperties = new ApplicationProperties { ["seq"] = 1 },
        };
        message.Properties.SetMessageId(Guid.Parse("6f1c2b4e-52a7-4c11-9d0e-3a1b2c3d4e5f"));
        await sender.SendAsync(message).WaitAsync(s_bound);

        (AmqpLink link, byte[] received) = await links.Received.Reader.ReadAsync().AsTask().WaitAsync(s_bound);
        Assert.Equal("dev1", link.Connection.SaslIdentity);
        Assert.Equal("PLAIN", link.Connection.SaslMechanism);
        Assert.Equal("rheaSender_1", link.Name);
        AmqpMessageLayout layout = AmqpMessageLayout.Parse(received);
        AmqpMessageId id = AmqpMessageId.From(AmqpProperties.Decode(received.AsSpan()[layout.Properties]).MessageId);
        Assert.Equal(AmqpMessageIdKind.Uuid, id.Kind);
        Assert.Equal("{\"t\":21.5}", Encoding.UTF8.GetString(received[layout.FirstData]));
        await connection.CloseAsync().WaitAsync(s_bound);
    }

    [Fact]
    public async Task SaslPlain_WrongPassword_ConnectionIsRefused()
    {
        await using AmqpTestServer server = await AmqpTestServer.StartAsync(new TestLinks(), new TestAuthenticator());
        await Assert.ThrowsAnyAsync<Exception>(() => Connect(server, "dev1:wrong@"));
    }

    [Fact]
    public async Task SaslAnonymous_AndNoSasl_BothConnect()
    {
        var links = new TestLinks();
        await using AmqpTestServer server = await AmqpTestServer.StartAsync(links, new TestAuthenticator());

        var factory = new ConnectionFactory();
        factory.SASL.Profile = SaslProfile.Anonymous;
        Connection anonymous = await factory.CreateAsync(new Address($"amqp://127.0.0.1:{server.Port}")).WaitAsync(s_bound);
        await new SenderLink(new Session(anonymous), "a", "accept").SendAsync(new Message("x")).WaitAsync(s_bound);
        Assert.Equal("anonymous", (await links.Received.Reader.ReadAsync().AsTask().WaitAsync(s_bound)).Link.Connection.SaslIdentity);

        // The IoT Hub SDKs skip SASL and authenticate with CBS later.
        Connection plain = await Connect(server, string.Empty);
        await new SenderLink(new Session(plain), "b", "accept").SendAsync(new Message("y")).WaitAsync(s_bound);
        Assert.Null((await links.Received.Reader.ReadAsync().AsTask().WaitAsync(s_bound)).Link.Connection.SaslMechanism);
        await anonymous.CloseAsync().WaitAsync(s_bound);
        await plain.CloseAsync().WaitAsync(s_bound);
    }

    [Fact]
    public async Task Send_RejectedByTheApplication_ClientSeesTheCondition()
    {
        await using AmqpTestServer server = await AmqpTestServer.StartAsync(new TestLinks());
        Connection connection = await Connect(server, string.Empty);
        var sender = new SenderLink(new Session(connection), "s", "reject");
        AmqpException exception = await Assert.ThrowsAsync<AmqpException>(() => sender.SendAsync(new Message("x")).WaitAsync(s_bound));
        Assert.Equal("amqp:not-allowed", (string)exception.Error.Condition);
        Assert.Equal("no thanks", exception.Error.Description);
        await connection.CloseAsync().WaitAsync(s_bound);
    }

    [Fact]
    public async Task Attach_RefusedByTheApplication_LinkDetachesWithTheCondition()
    {
        await using AmqpTestServer server = await AmqpTestServer.StartAsync(new TestLinks());
        Connection connection = await Connect(server, string.Empty);
        var sender = new SenderLink(new Session(connection), "s", "missing");
        AmqpException exception = await Assert.ThrowsAsync<AmqpException>(() => sender.SendAsync(new Message("x")).WaitAsync(s_bound));
        Assert.Equal("amqp:not-found", (string)exception.Error.Condition);
        await connection.CloseAsync().WaitAsync(s_bound);
    }

    [Fact]
    public async Task Receive_ApplicationSendsOnCredit_ClientReceivesAndItsOutcomeComesBack()
    {
        var links = new TestLinks();
        await using AmqpTestServer server = await AmqpTestServer.StartAsync(links);
        for (int i = 0; i < 3; i++)
        {
            links.Outbound.Enqueue(EncodeMessage($"c2d-{i}", 16));
        }

        Connection connection = await Connect(server, string.Empty);
        var receiver = new ReceiverLink(new Session(connection), "r", "outbound");
        receiver.SetCredit(10);
        for (int i = 0; i < 3; i++)
        {
            Message message = await receiver.ReceiveAsync(s_bound);
            Assert.NotNull(message);
            Assert.Equal($"c2d-{i}", message.Properties.MessageId);
            if (i == 1)
            {
                receiver.Reject(message, new Error(new global::Amqp.Types.Symbol("amqp:internal-error")));
            }
            else
            {
                receiver.Accept(message);
            }
        }

        var outcomes = new List<AmqpOutcome>();
        for (int i = 0; i < 3; i++)
        {
            outcomes.Add((await links.Outcomes.Reader.ReadAsync().AsTask().WaitAsync(s_bound)).Outcome);
        }

        Assert.Equal([AmqpDeliveryStateKind.Accepted, AmqpDeliveryStateKind.Rejected, AmqpDeliveryStateKind.Accepted], outcomes.Select(o => o.Kind));
        Assert.Equal("amqp:internal-error", outcomes[1].Condition);
        await connection.CloseAsync().WaitAsync(s_bound);
    }

    [Fact]
    public async Task LargeMessages_SmallFrames_AreSplitAndAssembledBothWays()
    {
        var links = new TestLinks();
        await using AmqpTestServer server = await AmqpTestServer.StartAsync(links, configure: o => o.MaxFrameSize = 4096);
        byte[] outbound = EncodeMessage("big-out", 50_000);
        links.Outbound.Enqueue(outbound);

        var factory = new ConnectionFactory();
        factory.AMQP.MaxFrameSize = 2048;
        Connection connection = await factory.CreateAsync(new Address($"amqp://127.0.0.1:{server.Port}")).WaitAsync(s_bound);
        var session = new Session(connection);
        byte[] body = new byte[100_000];
        new Random(7).NextBytes(body);
        await new SenderLink(session, "s", "accept").SendAsync(new Message { BodySection = new Data { Binary = body } }).WaitAsync(s_bound);
        (_, byte[] received) = await links.Received.Reader.ReadAsync().AsTask().WaitAsync(s_bound);
        Assert.Equal(body, received[AmqpMessageLayout.Parse(received).FirstData]);

        var receiver = new ReceiverLink(session, "r", "outbound");
        Message message = await receiver.ReceiveAsync(s_bound);
        Assert.Equal("big-out", message.Properties.MessageId);
        Assert.Equal(50_000, ((byte[])message.Body).Length);
        receiver.Accept(message);
        await connection.CloseAsync().WaitAsync(s_bound);
    }

    [Fact]
    public async Task ManyMessages_MoreThanTheCredit_CreditIsToppedUp()
    {
        var links = new TestLinks();
        await using AmqpTestServer server = await AmqpTestServer.StartAsync(links, configure: o =>
        {
            o.LinkCredit = 10;
            o.SessionWindow = 16;
        });
        Connection connection = await Connect(server, string.Empty);
        var sender = new SenderLink(new Session(connection), "s", "accept");
        for (int i = 0; i < 100; i++)
        {
            await sender.SendAsync(new Message($"m{i}")).WaitAsync(s_bound);
        }

        for (int i = 0; i < 100; i++)
        {
            await links.Received.Reader.ReadAsync().AsTask().WaitAsync(s_bound);
        }

        await connection.CloseAsync().WaitAsync(s_bound);
    }

    [Fact]
    public async Task Close_ByClient_LinksAreDetached()
    {
        var links = new TestLinks();
        await using AmqpTestServer server = await AmqpTestServer.StartAsync(links);
        Connection connection = await Connect(server, string.Empty);
        var sender = new SenderLink(new Session(connection), "s", "accept");
        await sender.SendAsync(new Message("x")).WaitAsync(s_bound);
        await connection.CloseAsync().WaitAsync(s_bound);
        Assert.Equal("s", (await links.Detached.Task.WaitAsync(s_bound)).Name);
    }

    private static async Task<Connection> Connect(AmqpTestServer server, string credentials)
        => await new ConnectionFactory().CreateAsync(new Address($"amqp://{credentials}127.0.0.1:{server.Port}")).WaitAsync(s_bound);

    private static byte[] EncodeMessage(string messageId, int bodySize)
    {
        var message = new Message(new byte[bodySize]) { Properties = new Properties { MessageId = messageId } };
        global::Amqp.ByteBuffer buffer = message.Encode();
        return buffer.Buffer.AsSpan(buffer.Offset, buffer.Length).ToArray();
    }
}
