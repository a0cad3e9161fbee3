using System.Net;
using System.Security.Cryptography.X509Certificates;
using Broker.Host.Tests.Support;
using Microsoft.Azure.Amqp;
using Microsoft.Azure.Amqp.Encoding;
using Microsoft.Azure.Amqp.Framing;
using Microsoft.Azure.Amqp.Sasl;
using Microsoft.Azure.Amqp.Transport;

namespace Broker.IntegrationTests.Amqp;

/// <summary>
/// Microsoft.Azure.Amqp used the way the official C# SDKs use it (Microsoft.Azure.Devices.Client's
/// <c>AmqpIotSession</c>/<c>AmqpIotConnector</c>, Microsoft.Azure.Devices' <c>IotHubConnection</c>): TLS to 5671,
/// the AMQP header with or without SASL, CBS through <see cref="AmqpCbsLink"/>, links attached with the SDKs' names,
/// absolute addresses, settle modes and <c>com.microsoft:*</c> properties.
/// </summary>
internal static class AzureAmqpClient
{
    public static readonly TimeSpan Bound = TimeSpan.FromSeconds(20);

    /// <summary>What the device SDK sends as <c>com.microsoft:client-version</c> (its product info).</summary>
    public const string DeviceClientVersion = "Microsoft.Azure.Devices.Client/1.42.3 (.NET 10.0; Linux; X64)";

    /// <summary>What the device SDK sends as <c>com.microsoft:api-version</c>.</summary>
    public const string ApiVersion = "2021-04-12";

    /// <summary>The device SDK's CBS token type (<c>CbsConstants.IotHubSasTokenType</c>).</summary>
    public const string IotHubSasTokenType = "azure-devices.net:sastoken";

    /// <summary>The service SDK's token type (<c>SharedAccessSignature</c> credentials).</summary>
    public const string ServiceBusSasTokenType = "servicebus.windows.net:sastoken";

    public static readonly AmqpSymbol ClientVersionProperty = "com.microsoft:client-version";
    public static readonly AmqpSymbol ApiVersionProperty = "com.microsoft:api-version";
    public static readonly AmqpSymbol ChannelCorrelationIdProperty = "com.microsoft:channel-correlation-id";
    public static readonly AmqpSymbol TimeoutProperty = "com.microsoft:timeout";

    /// <summary>
    /// Opens a connection over TLS to the broker's AMQPS port: with no SASL layer (the SDKs' way), or SASL
    /// ANONYMOUS, PLAIN (<paramref name="user"/>, <paramref name="password"/>) or EXTERNAL (the client certificate).
    /// </summary>
    public static async Task<AmqpConnection> ConnectAsync(TestBroker broker, AmqpClient.Auth auth, string? user = null, string? password = null,
        X509Certificate2? clientCertificate = null)
    {
        var settings = new AmqpSettings();
        if (auth != AmqpClient.Auth.NoSasl)
        {
            var sasl = new SaslTransportProvider();
            sasl.Versions.Add(new AmqpVersion(1, 0, 0));
            sasl.AddHandler(auth switch
            {
                AmqpClient.Auth.Anonymous => new SaslAnonymousHandler(),
                AmqpClient.Auth.Plain => new SaslPlainHandler { AuthenticationIdentity = user, Password = password },
                _ => new SaslExternalHandler(),
            });
            settings.TransportProviders.Add(sasl);
        }

        var amqp = new AmqpTransportProvider();
        amqp.Versions.Add(new AmqpVersion(1, 0, 0));
        settings.TransportProviders.Add(amqp);

        var authority = broker.LoadCertificateAuthority();
        var tls = new TlsTransportSettings(new TcpTransportSettings { Host = "127.0.0.1", Port = broker.AmqpsPort })
        {
            TargetHost = broker.HostName,
            Certificate = clientCertificate,
            CertificateValidationCallback = (_, certificate, _, _) => certificate is not null && certificate.Issuer == authority.Subject,
        };
        var transport = await new AmqpTransportInitiator(settings, tls).ConnectTaskAsync(Bound);
        var connection = new AmqpConnection(transport, settings, new AmqpConnectionSettings
        {
            ContainerId = Guid.NewGuid().ToString(),
            HostName = broker.HostName,
            IdleTimeOut = (uint)TimeSpan.FromMinutes(2).TotalMilliseconds,
        });
        await connection.OpenAsync(Bound);
        return connection;
    }

    /// <summary>Opens a session as the SDKs do, one per connection.</summary>
    public static async Task<AmqpSession> OpenSessionAsync(AmqpConnection connection)
    {
        var session = connection.CreateSession(new AmqpSessionSettings { Properties = new Fields() });
        await session.OpenAsync(Bound);
        return session;
    }

    /// <summary>Puts <paramref name="token"/> on <c>$cbs</c> with the connection's <see cref="AmqpCbsLink"/>; throws when refused.</summary>
    public static Task<DateTime> PutTokenAsync(TestBroker broker, AmqpConnection connection, string audience, string token, string tokenType = IotHubSasTokenType)
    {
        var cbs = connection.Extensions.Find<AmqpCbsLink>() ?? new AmqpCbsLink(connection);
        return cbs.SendTokenAsync(new TokenProvider(token, tokenType), new Uri($"amqps://{broker.HostName}"), audience, audience, ["DeviceConnect"], Bound);
    }

    /// <summary>The device SDK's absolute link address, <c>amqps://{host}:5671/devices/{url-encoded id}/...</c>.</summary>
    public static string DeviceAddress(TestBroker broker, string deviceId, string path)
        => ServiceAddress(broker, $"/devices/{WebUtility.UrlEncode(deviceId)}/{path}");

    /// <summary>The SDKs' absolute link address (<c>BuildLinkAddress</c>): <c>amqps://{host}:5671/</c> with the path set.</summary>
    public static string ServiceAddress(TestBroker broker, string path)
        => new UriBuilder(new Uri($"amqps://{broker.HostName}:5671/")) { Path = path }.Uri.AbsoluteUri;

    /// <summary>A device sender link as <c>AmqpIotSession.OpenSendingAmqpLinkAsync</c> attaches it.</summary>
    public static async Task<SendingAmqpLink> OpenDeviceSenderAsync(AmqpSession session, string deviceId, string address, string linkName,
        SenderSettleMode? senderSettle = null, string? channelCorrelationId = null)
    {
        var settings = new AmqpLinkSettings
        {
            LinkName = linkName,
            Role = false,
            InitialDeliveryCount = 0,
            Target = new Target { Address = address },
            Source = new Source { Address = deviceId },
            SndSettleMode = (byte?)senderSettle,
            RcvSettleMode = senderSettle is null ? null : (byte)ReceiverSettleMode.First,
        };
        settings.AddProperty(ClientVersionProperty, DeviceClientVersion);
        if (channelCorrelationId is not null)
        {
            settings.AddProperty(ChannelCorrelationIdProperty, channelCorrelationId);
        }

        settings.AddProperty(ApiVersionProperty, ApiVersion);
        var link = new SendingAmqpLink(settings);
        link.AttachTo(session);
        await link.OpenAsync(Bound);
        return link;
    }

    /// <summary>
    /// A device receiver link as <c>AmqpIotSession.OpenReceivingAmqpLinkAsync</c> attaches it: credit = the
    /// prefetch count, topped up automatically unless <paramref name="autoSendFlow"/> is false.
    /// </summary>
    public static async Task<ReceivingAmqpLink> OpenDeviceReceiverAsync(AmqpSession session, string deviceId, string address, string linkName,
        SenderSettleMode? senderSettle, ReceiverSettleMode receiverSettle, string? channelCorrelationId = null, uint prefetch = 50, bool autoSendFlow = true)
    {
        var settings = new AmqpLinkSettings
        {
            LinkName = linkName,
            Role = true,
            TotalLinkCredit = prefetch,
            AutoSendFlow = autoSendFlow && prefetch > 0,
            Source = new Source { Address = address },
            Target = new Target { Address = deviceId },
            SndSettleMode = (byte?)senderSettle,
            RcvSettleMode = (byte)receiverSettle,
        };
        settings.AddProperty(ClientVersionProperty, DeviceClientVersion);
        settings.AddProperty(ApiVersionProperty, ApiVersion);
        if (channelCorrelationId is not null)
        {
            settings.AddProperty(ChannelCorrelationIdProperty, channelCorrelationId);
        }

        var link = new ReceivingAmqpLink(settings);
        link.AttachTo(session);
        await link.OpenAsync(Bound);
        return link;
    }

    /// <summary>The service SDK's cloud-to-device sender (<c>IotHubConnection.CreateSendingLinkAsync</c>).</summary>
    public static async Task<SendingAmqpLink> OpenServiceSenderAsync(AmqpSession session, string address)
    {
        var settings = new AmqpLinkSettings
        {
            Role = false,
            InitialDeliveryCount = 0,
            Target = new Target { Address = address },
            LinkName = Guid.NewGuid().ToString("N"),
        };
        AddServiceProperties(settings);
        var link = new SendingAmqpLink(settings);
        link.AttachTo(session);
        await link.OpenAsync(Bound);
        return link;
    }

    /// <summary>The service SDK's feedback receiver (<c>IotHubConnection.CreateReceivingLinkAsync</c>, prefetch 0).</summary>
    public static async Task<ReceivingAmqpLink> OpenServiceReceiverAsync(AmqpSession session, string address)
    {
        var settings = new AmqpLinkSettings
        {
            Role = true,
            TotalLinkCredit = 0,
            AutoSendFlow = false,
            Source = new Source { Address = address },
            RcvSettleMode = (byte)ReceiverSettleMode.Second,
            LinkName = Guid.NewGuid().ToString("N"),
        };
        AddServiceProperties(settings);
        var link = new ReceivingAmqpLink(settings);
        link.AttachTo(session);
        await link.OpenAsync(Bound);
        return link;
    }

    /// <summary>The lock token as the device SDK reads it: <c>new Guid(amqpMessage.DeliveryTag.Array)</c>.</summary>
    public static Guid LockTokenOf(AmqpMessage message) => new(message.DeliveryTag.Array!);

    /// <summary>The bytes of a received message's body.</summary>
    public static byte[] BodyOf(AmqpMessage message)
    {
        using var copy = new MemoryStream();
        message.BodyStream.CopyTo(copy);
        return copy.ToArray();
    }

    private static void AddServiceProperties(AmqpLinkSettings settings)
    {
        settings.AddProperty(TimeoutProperty, Bound.TotalMilliseconds);
        settings.AddProperty(ClientVersionProperty, "Microsoft.Azure.Devices/1.39.1");
    }

    private sealed class TokenProvider(string token, string tokenType) : ICbsTokenProvider
    {
        public Task<CbsToken> GetTokenAsync(Uri namespaceAddress, string appliesTo, string[] requiredClaims)
            => Task.FromResult(new CbsToken(token, tokenType, DateTime.UtcNow.AddHours(1)));
    }
}
