using Broker.Core.Security;
using Broker.Plugins.Authentication;
using Broker.Host.Hosting;
using Microsoft.Extensions.Logging;

namespace Broker.Host.Plugins;

/// <summary>
/// Device authentication with plug-ins in front: each loaded <see cref="IDeviceAuthenticationProvider"/> is asked in
/// load order; the first that succeeds or declines decides, and when every one answers "not mine" the built-in
/// SAS / X.509 authenticator does.
/// </summary>
internal sealed class PluginChainAuthenticator : IDeviceAuthenticator
{
    private readonly IDeviceAuthenticationProvider[] _providers;
    private readonly IDeviceAuthenticator _builtIn;
    private readonly string _hostName;
    private readonly ILogger _logger;

    public PluginChainAuthenticator(IEnumerable<IDeviceAuthenticationProvider> providers, IDeviceAuthenticator builtIn, string hostName, ILogger logger)
    {
        _providers = [.. providers];
        _builtIn = builtIn;
        _hostName = hostName;
        _logger = logger;
    }

    public async ValueTask<AuthResult> AuthenticateAsync(DeviceCredentials credentials, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(credentials);
        if (_providers.Length > 0)
        {
            var request = new DeviceAuthenticationRequest
            {
                HostName = _hostName,
                DeviceId = credentials.DeviceId,
                ModuleId = credentials.ModuleId,
                SasToken = credentials.SasToken,
                ClientCertificate = credentials.ClientCertificate?.RawDataMemory ?? default,
            };
            foreach (var provider in _providers)
            {
                var result = await provider.AuthenticateAsync(request, cancellationToken).ConfigureAwait(false);
                switch (result.Outcome)
                {
                    case DeviceAuthenticationOutcome.Succeeded:
                        HostLog.PluginAdmitted(_logger, credentials.DeviceId, provider.GetType().FullName ?? "?", result.AuthenticationMethod ?? "");
                        return new AuthResult
                        {
                            Status = AuthStatus.Success,
                            Method = Broker.Core.Security.AuthMethod.Plugin,
                            DeviceId = credentials.DeviceId,
                            ModuleId = credentials.ModuleId,
                            ExpiresAt = result.ExpiresAt,
                        };
                    case DeviceAuthenticationOutcome.Declined:
                        HostLog.PluginDeclined(_logger, credentials.DeviceId, provider.GetType().FullName ?? "?", result.Reason ?? "");
                        return AuthResult.Failed(AuthStatus.NotAuthorized);
                }
            }
        }

        return await _builtIn.AuthenticateAsync(credentials, cancellationToken).ConfigureAwait(false);
    }
}
