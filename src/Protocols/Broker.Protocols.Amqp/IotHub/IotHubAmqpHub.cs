using System.Text;
using Broker.Core.CloudToDevice;
using Broker.Core.Hub;
using Broker.Core.Methods;
using Broker.Core.Security;
using Broker.Core.Storage;
using Broker.Core.Twins;
using Broker.Protocols.Amqp.Codec;
using Broker.Protocols.Amqp.Server;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Broker.Protocols.Amqp.IotHub;

/// <summary>
/// IoT Hub over AMQP: decides SASL (PLAIN with a SAS token, ANONYMOUS and EXTERNAL, both completed by CBS or the TLS
/// client certificate) and every attach: <c>$cbs</c>, the device links (telemetry, cloud-to-device, twin, methods;
/// module forms too) and the service links (cloud-to-device send, feedback). Each link is authorised by a grant of
/// its identity on the connection; a connection may carry several identities.
/// </summary>
public sealed class IotHubAmqpHub : IAmqpSaslAuthenticator, IAmqpLinkHandler
{
    private readonly IDeviceAuthenticator _devices;
    private readonly ServiceAuthenticator _services;
    private readonly uint _linkCredit;

    /// <summary>Created by dependency injection.</summary>
    public IotHubAmqpHub(IDeviceAuthenticator devices, IHubStore store, ConnectionRegistry connections, CloudToDeviceService cloudToDevice,
        FeedbackQueue feedback, MethodInvoker methods, TwinService twins, SharedAccessPolicies policies, IOptions<HubOptions> hub,
        IOptions<AmqpServerOptions> amqp, TimeProvider time, ILogger<IotHubAmqpHub> logger)
    {
        ArgumentNullException.ThrowIfNull(hub);
        ArgumentNullException.ThrowIfNull(amqp);
        _devices = devices;
        Store = store;
        Connections = connections;
        CloudToDevice = cloudToDevice;
        Feedback = feedback;
        Methods = methods;
        Twins = twins;
        Time = time;
        Logger = logger;
        HostName = hub.Value.HostName;
        HubName = HostName.Split('.')[0];
        _services = new ServiceAuthenticator(HostName, policies, time);
        _linkCredit = amqp.Value.LinkCredit;
    }

    internal IHubStore Store { get; }

    internal ConnectionRegistry Connections { get; }

    internal CloudToDeviceService CloudToDevice { get; }

    internal FeedbackQueue Feedback { get; }

    internal MethodInvoker Methods { get; }

    internal TwinService Twins { get; }

    internal TimeProvider Time { get; }

    internal ILogger Logger { get; }

    internal string HostName { get; }

    internal string HubName { get; }

    /// <inheritdoc />
    public async ValueTask<string?> AuthenticateAsync(AmqpSaslRequest request, AmqpConnectionInfo connection, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        ArgumentNullException.ThrowIfNull(connection);
        var state = StateOf(connection);
        switch (request.Mechanism)
        {
            case "ANONYMOUS":
                return "anonymous"; // CBS follows
            case "EXTERNAL":
                // X.509: the device links name the device; its certificate is checked as they attach.
                return connection.ClientCertificate is null ? null : "x509";
            case "PLAIN":
                if (!request.TryGetPlainCredentials(out string userName, out string password))
                {
                    return null;
                }

                int at = userName.IndexOf("@sas.", StringComparison.OrdinalIgnoreCase);
                if (at <= 0)
                {
                    return null;
                }

                string who = userName[..at];
                if (userName.AsSpan(at + 5).StartsWith("root.", StringComparison.OrdinalIgnoreCase))
                {
                    var service = _services.Authenticate(password, AccessRights.ServiceConnect);
                    if (!service.Succeeded)
                    {
                        IotHubAmqpLog.AuthenticationFailed(Logger, connection.RemoteEndPoint, who, service.Status, "SASL PLAIN");
                        return null;
                    }

                    state.SetGrant(IotHubAmqpConnection.ServiceIdentity, service);
                    IotHubAmqpLog.Authenticated(Logger, connection.RemoteEndPoint, who, service.Method, "SASL PLAIN");
                    return userName;
                }

                int slash = who.IndexOf('/', StringComparison.Ordinal);
                string deviceId = Uri.UnescapeDataString(slash < 0 ? who : who[..slash]);
                string? moduleId = slash < 0 ? null : Uri.UnescapeDataString(who[(slash + 1)..]);
                var result = await _devices.AuthenticateAsync(DeviceCredentials.FromSasToken(deviceId, moduleId, password), cancellationToken).ConfigureAwait(false);
                if (!result.Succeeded)
                {
                    IotHubAmqpLog.AuthenticationFailed(Logger, connection.RemoteEndPoint, who, result.Status, "SASL PLAIN");
                    return null;
                }

                state.SetGrant(DeviceContext.IdentityKeyOf(deviceId, moduleId), result);
                IotHubAmqpLog.Authenticated(Logger, connection.RemoteEndPoint, who, result.Method, "SASL PLAIN");
                return userName;
            default:
                return null;
        }
    }

    /// <inheritdoc />
    public async ValueTask<AmqpLinkDecision> OnAttachAsync(AmqpLink link, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(link);
        var state = StateOf(link.Connection);
        bool hubReceives = link.Role == AmqpRole.Receiver;
        string? address = hubReceives ? link.TargetAddress : link.SourceAddress;
        var parsed = IotHubLinkAddress.Parse(address);
        switch (parsed.Kind)
        {
            case IotHubLinkKind.Cbs when hubReceives:
                return AmqpLinkDecision.Accept(new CbsRequestEndpoint(state));
            case IotHubLinkKind.Cbs:
                var replies = new AmqpOutgoing(link);
                state.CbsReplies = replies;
                return AmqpLinkDecision.Accept(new CbsReplyEndpoint(state, replies));
            case IotHubLinkKind.ServiceCloudToDevice when hubReceives:
            case IotHubLinkKind.ServiceFeedback when !hubReceives:
                if (!state.TryGetGrant(IotHubAmqpConnection.ServiceIdentity, out _) || !state.AddLink(IotHubAmqpConnection.ServiceIdentity, link))
                {
                    return Refuse(link, address, "amqp:unauthorized-access", "No valid service token (put-token for the hub with a ServiceConnect policy) on this connection.");
                }

                if (parsed.Kind == IotHubLinkKind.ServiceCloudToDevice)
                {
                    return AmqpLinkDecision.Accept(new ServiceCloudToDeviceEndpoint(state));
                }

                var feedback = new FeedbackEndpoint(link, state);
                feedback.Start();
                return AmqpLinkDecision.Accept(feedback);
            case IotHubLinkKind.Telemetry when hubReceives:
            case IotHubLinkKind.CloudToDevice when !hubReceives && parsed.ModuleId is null:
            case IotHubLinkKind.Twin:
            case IotHubLinkKind.Methods:
                return await AttachDeviceLinkAsync(state, link, parsed, address, cancellationToken).ConfigureAwait(false);
            case IotHubLinkKind.Unknown:
                return Refuse(link, address, "amqp:not-found", $"No node '{address}' on this hub.");
            default:
                return Refuse(link, address, "amqp:not-allowed", $"'{address}' cannot be attached as a {(hubReceives ? "sender" : "receiver")}.");
        }
    }

    /// <inheritdoc />
    public void OnConnectionClosed(AmqpConnectionInfo connection)
    {
        ArgumentNullException.ThrowIfNull(connection);
        (connection.ApplicationState as IotHubAmqpConnection)?.Close();
    }

    /// <summary>Checks a put-token request; returns IoT Hub's status and description.</summary>
    internal async ValueTask<(int Status, string Description)> PutTokenAsync(IotHubAmqpConnection state, string audience, string token)
    {
        string path = AudiencePath(audience);
        if (path.Length == 0)
        {
            var service = _services.Authenticate(token, AccessRights.ServiceConnect);
            if (!service.Succeeded)
            {
                IotHubAmqpLog.AuthenticationFailed(Logger, state.Info.RemoteEndPoint, audience, service.Status, "CBS");
                return (401, $"Unauthorized: {service.Status}.");
            }

            state.SetGrant(IotHubAmqpConnection.ServiceIdentity, service);
            IotHubAmqpLog.Authenticated(Logger, state.Info.RemoteEndPoint, service.PolicyName ?? "service", service.Method, "CBS");
            return (200, "OK");
        }

        var segments = path.Split('/');
        if (segments.Length is not (2 or 4) || !segments[0].Equals("devices", StringComparison.OrdinalIgnoreCase)
            || (segments.Length == 4 && !segments[2].Equals("modules", StringComparison.OrdinalIgnoreCase)))
        {
            return (404, $"Unknown audience '{audience}'.");
        }

        string deviceId = segments[1];
        string? moduleId = segments.Length == 4 ? segments[3] : null;
        var result = await _devices.AuthenticateAsync(DeviceCredentials.FromSasToken(deviceId, moduleId, token)).ConfigureAwait(false);
        if (!result.Succeeded)
        {
            IotHubAmqpLog.AuthenticationFailed(Logger, state.Info.RemoteEndPoint, DeviceContext.IdentityKeyOf(deviceId, moduleId), result.Status, "CBS");
            return (401, $"Unauthorized: {result.Status}.");
        }

        state.SetGrant(DeviceContext.IdentityKeyOf(deviceId, moduleId), result);
        IotHubAmqpLog.Authenticated(Logger, state.Info.RemoteEndPoint, DeviceContext.IdentityKeyOf(deviceId, moduleId), result.Method, "CBS");
        return (200, "OK");
    }

    // "amqps://host:5671/devices/d1", "host/devices/d1" (maybe URL-encoded), "host" → "devices/d1" or "".
    private static string AudiencePath(string audience)
    {
        string decoded;
        try
        {
            decoded = Uri.UnescapeDataString(audience);
        }
        catch (UriFormatException)
        {
            decoded = audience;
        }

        int scheme = decoded.IndexOf("://", StringComparison.Ordinal);
        if (scheme >= 0)
        {
            decoded = decoded[(scheme + 3)..];
        }

        int slash = decoded.IndexOf('/', StringComparison.Ordinal);
        return slash < 0 ? string.Empty : decoded[(slash + 1)..].Trim('/');
    }

    private async ValueTask<AmqpLinkDecision> AttachDeviceLinkAsync(IotHubAmqpConnection state, AmqpLink link, IotHubLinkAddress address, string? text,
        CancellationToken cancellationToken)
    {
        string deviceId = address.DeviceId!;
        string? moduleId = address.ModuleId;
        string identity = DeviceContext.IdentityKeyOf(deviceId, moduleId);
        if (!state.TryGetGrant(identity, out var result))
        {
            if (link.Connection.ClientCertificate is not { } certificate)
            {
                return Refuse(link, text, "amqp:unauthorized-access", $"No valid token for {identity} on this connection (put-token on $cbs first).");
            }

            // X.509 without CBS: the TLS client certificate is checked for the identity the link names.
            result = await _devices.AuthenticateAsync(DeviceCredentials.FromCertificate(deviceId, moduleId, certificate), cancellationToken).ConfigureAwait(false);
            if (!result.Succeeded)
            {
                IotHubAmqpLog.AuthenticationFailed(Logger, state.Info.RemoteEndPoint, identity, result.Status, "X.509");
                return Refuse(link, text, "amqp:unauthorized-access", $"The client certificate does not authenticate {identity}.");
            }

            state.SetGrant(identity, result);
            IotHubAmqpLog.Authenticated(Logger, state.Info.RemoteEndPoint, identity, result.Method, "X.509");
        }

        while (true)
        {
            var proxy = state.GetOrCreateProxy(deviceId, moduleId, result, out bool created);
            if (created)
            {
                Connections.Register(proxy);
            }

            if (!state.AddLink(identity, link))
            {
                return Refuse(link, text, "amqp:unauthorized-access", $"The token for {identity} expired.");
            }

            IAmqpLinkEndpoint endpoint;
            AmqpOutgoing? twinReplies = null;
            AmqpOutgoing? methodRequests = null;
            CloudToDeviceEndpoint? cloudToDevice = null;
            bool hubReceives = link.Role == AmqpRole.Receiver;
            switch (address.Kind)
            {
                case IotHubLinkKind.Telemetry:
                    endpoint = new TelemetryEndpoint(link, proxy, state, _linkCredit);
                    break;
                case IotHubLinkKind.CloudToDevice:
                    endpoint = cloudToDevice = new CloudToDeviceEndpoint(link, proxy, state);
                    break;
                case IotHubLinkKind.Twin when hubReceives:
                    endpoint = new TwinRequestEndpoint(proxy, state, ChannelOf(link));
                    break;
                case IotHubLinkKind.Twin:
                    twinReplies = new AmqpOutgoing(link);
                    endpoint = new DeviceSenderEndpoint(proxy, state, twinReplies);
                    break;
                case IotHubLinkKind.Methods when hubReceives:
                    endpoint = new MethodResponseEndpoint(proxy, state);
                    break;
                default:
                    methodRequests = new AmqpOutgoing(link);
                    endpoint = new DeviceSenderEndpoint(proxy, state, methodRequests);
                    break;
            }

            if (proxy.AddLink(link, twinReplies, methodRequests, cloudToDevice, twinReplies is null ? null : ChannelOf(link)))
            {
                return AmqpLinkDecision.Accept(endpoint);
            }

            state.RemoveLink(identity, link); // the proxy was closed meanwhile (taken over): start a new one
        }
    }

    // The SDKs give both links of a twin or method pair the same com.microsoft:channel-correlation-id.
    private static string? ChannelOf(AmqpLink link)
    {
        try
        {
            if (!AmqpMap.TryGetValue(link.Properties.Span, "com.microsoft:channel-correlation-id"u8, out var value))
            {
                return null;
            }

            var text = AmqpMap.GetText(value);
            return text.IsEmpty ? null : System.Text.Encoding.UTF8.GetString(text);
        }
        catch (AmqpDecodeException)
        {
            return null; // properties we cannot read pair nothing; replies go to the latest twin receiver
        }
    }

    private AmqpLinkDecision Refuse(AmqpLink link, string? address, string condition, string description)
    {
        IotHubAmqpLog.AttachRefused(Logger, link.Connection.RemoteEndPoint, address ?? "(none)", condition);
        return AmqpLinkDecision.Refuse(condition, description);
    }

    private IotHubAmqpConnection StateOf(AmqpConnectionInfo connection)
    {
        if (connection.ApplicationState is IotHubAmqpConnection state)
        {
            return state;
        }

        state = new IotHubAmqpConnection(this, connection, Time);
        connection.ApplicationState = state;
        return state;
    }

}
