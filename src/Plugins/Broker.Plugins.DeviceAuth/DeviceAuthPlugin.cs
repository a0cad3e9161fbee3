using Broker.Core.Hub;
using Broker.Core.Registry;
using Broker.Core.Security;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace Broker.Plugins.DeviceAuth;

/// <summary>
/// The broker's own device authentication, SAS tokens and X.509 certificates checked against the identity
/// registry, as a built-in plug-in. It registers the authenticator under <see cref="DeviceAuthenticatorKeys.BuiltIn"/>;
/// the host asks the contract's <c>IDeviceAuthenticationProvider</c> plug-ins first and this one when they all
/// pass. It uses the host's own types (<c>"shareHostAssemblies": true</c>), because the decision carries more than
/// the contract's result does (the registry generation of the identity, the failure status).
/// </summary>
public sealed class DeviceAuthPlugin : IBrokerPlugin
{
    /// <inheritdoc />
    public void ConfigureServices(IServiceCollection services, PluginContext context)
    {
        ArgumentNullException.ThrowIfNull(services);
        services.AddKeyedSingleton<IDeviceAuthenticator>(DeviceAuthenticatorKeys.BuiltIn, static (provider, _) => new DeviceAuthenticator(
            provider.GetRequiredService<IOptions<HubOptions>>().Value.HostName,
            provider.GetRequiredService<IdentityRegistry>(),
            provider.GetRequiredService<SharedAccessPolicies>(),
            provider.GetRequiredService<TimeProvider>()));
    }
}
