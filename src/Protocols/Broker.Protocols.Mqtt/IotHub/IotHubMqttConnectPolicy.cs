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
    private readonly ConnectionRegistry _connections;
    private readonly IHubStore _store;
    private readonly TimeProvider _time;
    private readonly ILogger<IotHubMqttConnectPolicy> _logger;

    /// <summary>Created by dependency injection.</summary>
    public IotHubMqttConnectPolicy(IDeviceAuthenticator authenticator, ConnectionRegistry connections, IHubStore store, TimeProvider time,
        IOptions<HubOptions> hubOptions, ILogger<IotHubMqttConnectPolicy> logger)
    {
        ArgumentNullException.ThrowIfNull(hubOptions);
        _authenticator = authenticator;
        _connections = connections;
        _store = store;
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

        var context = new DeviceContext(userName.DeviceId, userName.ModuleId, ProtocolKind.Mqtt, result.Method, result.GenerationId,
            _time.GetUtcNow(), result.ExpiresAt);
        var session = new IotHubMqttSession(context, client, _store.GetPartitionFor(userName.DeviceId), _connections, _logger);
        client.SetCredentialsExpiry(result.ExpiresAt);
        _connections.Register(session);
        IotHubMqttLog.Connected(_logger, client.RemoteEndPoint, context.IdentityKey, result.Method);
        return MqttConnectDecision.Accept(session);
    }

    internal static byte[] Utf8(string? value) => value is null ? [] : Encoding.UTF8.GetBytes(value);
}
