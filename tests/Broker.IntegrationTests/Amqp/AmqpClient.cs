using Amqp;
using Amqp.Framing;
using Amqp.Sasl;
using Amqp.Types;
using Broker.Core.Security;
using Broker.Host.Tests.Support;
using Broker.Management;

namespace Broker.IntegrationTests.Amqp;

/// <summary>AMQPNetLite helpers: connections with each way to authenticate, CBS put-token, attaching links and waiting for them.</summary>
internal static class AmqpClient
{
    public static readonly TimeSpan Bound = TimeSpan.FromSeconds(20);

    public enum Auth
    {
        NoSasl,
        Anonymous,
        Plain,
        External,
    }

    public static async Task<Connection> ConnectAsync(TestBroker broker, Auth auth, string? user = null, string? password = null,
        System.Security.Cryptography.X509Certificates.X509Certificate2? clientCertificate = null)
    {
        var factory = new ConnectionFactory();
        factory.AMQP.HostName = broker.HostName;
        Address address;
        switch (auth)
        {
            case Auth.Plain:
                address = new Address("127.0.0.1", broker.AmqpPort, user, password, "/", "amqp");
                break;
            case Auth.Anonymous:
                factory.SASL.Profile = SaslProfile.Anonymous;
                address = new Address("127.0.0.1", broker.AmqpPort, null, null, "/", "amqp");
                break;
            case Auth.External:
                factory.SASL.Profile = SaslProfile.External;
                address = new Address("127.0.0.1", broker.AmqpsPort, null, null, "/", "amqps");
                break;
            default:
                address = new Address("127.0.0.1", broker.AmqpPort, null, null, "/", "amqp");
                break;
        }

        if (address.UseSsl)
        {
            var authority = broker.LoadCertificateAuthority();
            factory.SSL.RemoteCertificateValidationCallback = (_, certificate, _, _) =>
                certificate is not null && certificate.Issuer == authority.Subject;
            if (clientCertificate is not null)
            {
                factory.SSL.ClientCertificates.Add(clientCertificate);
            }
        }

        using var timeout = new CancellationTokenSource(Bound);
        return await factory.CreateAsync(address).WaitAsync(timeout.Token);
    }

    /// <summary>Puts a token on <c>$cbs</c> and returns the reply's status code.</summary>
    public static async Task<(int Status, object CorrelationId, object MessageId)> PutTokenAsync(Session session, string audience, string token, object? messageId = null)
    {
        var sender = await AttachSenderAsync(session, "cbs-sender-" + Guid.NewGuid(), "$cbs");
        var receiver = await AttachReceiverAsync(session, "cbs-receiver-" + Guid.NewGuid(), "$cbs");
        messageId ??= Guid.NewGuid();
        var request = new Message(token)
        {
            Properties = new Properties { ReplyTo = "cbs" },
            ApplicationProperties = new ApplicationProperties(),
        };
        request.Properties.SetMessageId(messageId);
        request.ApplicationProperties["operation"] = "put-token";
        request.ApplicationProperties["type"] = "azure-devices.net:sastoken";
        request.ApplicationProperties["name"] = audience;
        await sender.SendAsync(request);
        var reply = await receiver.ReceiveAsync(Bound);
        Assert.NotNull(reply);
        receiver.Accept(reply);
        await sender.CloseAsync();
        await receiver.CloseAsync();
        return ((int)reply.ApplicationProperties["status-code"], reply.Properties.GetCorrelationId(), messageId);
    }

    public static async Task<SenderLink> AttachSenderAsync(Session session, string name, string address, Map? properties = null, SenderSettleMode settle = SenderSettleMode.Unsettled)
    {
        var attached = new TaskCompletionSource<Attach>(TaskCreationOptions.RunContinuationsAsynchronously);
        var attach = new Attach { Source = new Source(), Target = new Target { Address = address }, SndSettleMode = settle, Properties = (Fields?)ToFields(properties) };
        var link = new SenderLink(session, name, attach, (_, remote) => attached.TrySetResult((Attach)remote));
        var remoteAttach = await attached.Task.WaitAsync(Bound);
        return remoteAttach.Target is null ? throw await ClosedAsync(link) : link;
    }

    public static async Task<ReceiverLink> AttachReceiverAsync(Session session, string name, string address, Map? properties = null, ReceiverSettleMode settle = ReceiverSettleMode.First)
    {
        var attached = new TaskCompletionSource<Attach>(TaskCreationOptions.RunContinuationsAsynchronously);
        var attach = new Attach { Source = new Source { Address = address }, Target = new Target(), RcvSettleMode = settle, Properties = (Fields?)ToFields(properties) };
        var link = new ReceiverLink(session, name, attach, (_, remote) => attached.TrySetResult((Attach)remote));
        var remoteAttach = await attached.Task.WaitAsync(Bound);
        return remoteAttach.Source is null ? throw await ClosedAsync(link) : link;
    }

    /// <summary>Waits for the link to be closed by the peer and returns its error.</summary>
    public static async Task<AmqpException> ClosedAsync(Link link)
    {
        var closed = new TaskCompletionSource<Error?>(TaskCreationOptions.RunContinuationsAsynchronously);
        link.AddClosedCallback((_, error) => closed.TrySetResult(error));
        var error = await closed.Task.WaitAsync(Bound);
        return new AmqpException(error ?? new Error(ErrorCode.InternalError));
    }

    public static string DeviceAudience(TestBroker broker, string deviceId) => $"{broker.HostName}/devices/{deviceId}";

    /// <summary>A service token for the broker's iothubowner policy.</summary>
    public static (string PolicyName, string Token) ServiceToken(TestBroker broker, TimeSpan? lifetime = null)
        => ServiceToken(broker.DataDirectory, broker.HostName, lifetime);

    /// <summary>A service token for the iothubowner policy of the broker whose data directory is <paramref name="dataDirectory"/>.</summary>
    public static (string PolicyName, string Token) ServiceToken(string dataDirectory, string hostName, TimeSpan? lifetime = null)
    {
        Assert.True(LocalCredentials.TryRead(dataDirectory, out var connectionString), "the broker wrote no iothubowner connection string");
        var pairs = connectionString.Split(';', StringSplitOptions.RemoveEmptyEntries).Select(part => part.Split('=', 2))
            .ToDictionary(pair => pair[0], pair => pair[1], StringComparer.OrdinalIgnoreCase);
        return (pairs["SharedAccessKeyName"], SasTokenBuilder.Create(hostName, pairs["SharedAccessKey"], DateTimeOffset.UtcNow + (lifetime ?? TimeSpan.FromHours(1)), pairs["SharedAccessKeyName"]));
    }

    /// <summary>A back end's connection: SASL PLAIN as the iothubowner policy (<c>{policy}@sas.root.{host}</c>, a service token).</summary>
    public static Task<Connection> ConnectServiceAsync(TestBroker broker)
    {
        var (policy, token) = ServiceToken(broker);
        return ConnectAsync(broker, Auth.Plain, $"{policy}@sas.root.{broker.HostName}", token);
    }

    /// <summary>
    /// Puts the device's SAS token on <paramref name="session"/>'s connection over CBS and attaches its cloud-to-device
    /// receiver at <paramref name="address"/>, settling second as the C# SDK does.
    /// </summary>
    public static async Task<ReceiverLink> AttachCloudToDeviceReceiverAsync(Session session, TestBroker broker, Broker.Core.Registry.Device device, string address)
    {
        var put = await PutTokenAsync(session, DeviceAudience(broker, device.DeviceId), broker.CreateSasToken(device.DeviceId, TestBroker.PrimaryKeyOf(device)));
        Assert.Equal(200, put.Status);
        return await AttachReceiverAsync(session, "c2d", address, settle: ReceiverSettleMode.Second);
    }

    private static Fields? ToFields(Map? properties)
    {
        if (properties is null)
        {
            return null;
        }

        var fields = new Fields();
        foreach (var key in properties.Keys)
        {
            fields[(Symbol)key] = properties[key];
        }

        return fields;
    }
}
