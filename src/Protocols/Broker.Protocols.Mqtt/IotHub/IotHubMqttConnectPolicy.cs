using System.Text;
using Broker.Core.Hub;
using Broker.Core.Security;
using Broker.Core.Storage;
using Broker.Protocols.Mqtt.Codec;
using Broker.Protocols.Mqtt.Server;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Broker.Protocols.Mqtt.IotHub;

/// <summary>
/// IoT Hub's CONNECT rules: the user name names the identity, the client id must match it, the password is a SAS
/// token (none for X.509, where the TLS client certificate is checked). Every authentication failure answers
/// CONNACK 0x05, as the hub does; a malformed user name or a client id that does not match answers 0x02.
/// </summary>
public sealed class IotHubMqttConnectPolicy : IMqttConnectPolicy
{
    private readonly IDeviceAuthenticator _authenticator;
    private readonly IotHubHubServices _hub;
    private readonly TimeProvider _time;
    private readonly ILogger<IotHubMqttConnectPolicy> _logger;

    /// <summary>Created by dependency injection.</summary>
    public IotHubMqttConnectPolicy(IDeviceAuthenticator authenticator, IotHubHubServices hub, TimeProvider time,
        IOptions<HubOptions> hubOptions, ILogger<IotHubMqttConnectPolicy> logger)
    {
        ArgumentNullException.ThrowIfNull(hubOptions);
        _authenticator = authenticator;
        _hub = hub;
        _time = time;
        _logger = logger;
    }

    /// <inheritdoc />
    public async ValueTask<MqttConnectDecision> ConnectAsync(MqttConnectRequest request, IMqttClient client, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        ArgumentNullException.ThrowIfNull(client);
        var userName = IotHubUsername.TryParse(request.UserName);
        if (userName is null || request.ClientId != DeviceContext.IdentityKeyOf(userName.DeviceId, userName.ModuleId))
        {
            IotHubMqttLog.IdentityRejected(_logger, client.RemoteEndPoint, request.ClientId, request.UserName ?? "");
            return MqttConnectDecision.Refuse(MqttConnectReturnCode.IdentifierRejected);
        }

        DeviceCredentials credentials;
        if (!string.IsNullOrEmpty(request.Password))
        {
            credentials = DeviceCredentials.FromSasToken(userName.DeviceId, userName.ModuleId, request.Password);
        }
        else if (request.ClientCertificate is { } certificate)
        {
            credentials = DeviceCredentials.FromCertificate(userName.DeviceId, userName.ModuleId, certificate);
        }
        else
        {
            return MqttConnectDecision.Refuse(MqttConnectReturnCode.NotAuthorized);
        }

        var result = await _authenticator.AuthenticateAsync(credentials, cancellationToken).ConfigureAwait(false);
        if (!result.Succeeded)
        {
            IotHubMqttLog.AuthenticationFailed(_logger, client.RemoteEndPoint, request.ClientId, result.Status);
            return MqttConnectDecision.Refuse(MqttConnectReturnCode.NotAuthorized);
        }

        byte[]? willBag = null;
        if (request.Will is { } will && !TryGetWillPropertyBag(will, userName.DeviceId, userName.ModuleId, out willBag))
        {
            // IoT Hub forwards a Will only as the identity's own telemetry; any other Will topic is not the device's to use.
            IotHubMqttLog.WillRejected(_logger, client.RemoteEndPoint, request.ClientId, Encoding.UTF8.GetString(will.Topic), will.Payload.Length);
            return MqttConnectDecision.Refuse(MqttConnectReturnCode.NotAuthorized);
        }

        var context = new DeviceContext(userName.DeviceId, userName.ModuleId, ProtocolKind.Mqtt, result.Method, result.GenerationId,
            _time.GetUtcNow(), result.ExpiresAt);
        // CleanSession 0 keeps the identity's subscriptions across connections; CleanSession 1 starts afresh.
        var state = _hub.Store.GetPartitionFor(userName.DeviceId).State;
        DeviceSubscriptions? restored = null;
        var stored = IotHubMqttSessions.Read(state, context.IdentityKey, result.GenerationId);
        if (stored is { Current: true } && !request.CleanSession)
        {
            restored = stored.Value.Subscriptions;
        }
        else if (stored is not null)
        {
            IotHubMqttSessions.Delete(state, context.IdentityKey); // CleanSession 1, or the session of an earlier device with this id
        }

        var session = new IotHubMqttSession(context, client, _hub, restored ?? DeviceSubscriptions.None, persistent: !request.CleanSession, _logger)
        {
            Will = willBag is null ? null : new IotHubMqttSession.WillMessage(willBag, request.Will!.Payload),
        };
        client.SetCredentialsExpiry(result.ExpiresAt);
        _hub.Connections.Register(session);
        IotHubMqttLog.Connected(_logger, client.RemoteEndPoint, context.IdentityKey, result.Method);
        return MqttConnectDecision.Accept(session, sessionPresent: restored is not null);
    }

    // The Will's topic must be the identity's telemetry topic and its payload within the telemetry limit; the stored
    // property bag is the topic's, plus iothub-MessageType=Will (and mqtt-retain=true for a retained Will).
    private static bool TryGetWillPropertyBag(MqttWill will, string deviceId, string? moduleId, out byte[]? bag)
    {
        bag = null;
        if (will.Payload.Length > IotHubMqttSession.MaxMessageBytes
            || IotHubTopics.ClassifyPublish(will.Topic, Utf8(deviceId), Utf8(moduleId), out var topicBag) != IotHubTopicKind.Telemetry)
        {
            return false;
        }

        var withWill = new byte[IotHubHubProperties.AppendedLength(topicBag, IotHubHubProperties.Will)];
        IotHubHubProperties.Append(topicBag, IotHubHubProperties.Will, withWill);
        if (!will.Retain)
        {
            bag = withWill;
            return true;
        }

        bag = new byte[IotHubHubProperties.AppendedLength(withWill, IotHubHubProperties.Retain)];
        IotHubHubProperties.Append(withWill, IotHubHubProperties.Retain, bag);
        return true;
    }

    internal static byte[] Utf8(string? value) => value is null ? [] : Encoding.UTF8.GetBytes(value);
}
