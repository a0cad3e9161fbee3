using Broker.Plugins;
using Broker.Plugins.Authentication;
using Microsoft.Extensions.DependencyInjection;

namespace Broker.TestPlugins.Lifecycle;

/// <summary>Registers a service, then fails: the registration must not reach the host.</summary>
public sealed class ThrowingConfigureServicesPlugin : IBrokerPlugin
{
    public void ConfigureServices(IServiceCollection services, PluginContext context)
    {
        services.AddSingleton<IDeviceAuthenticationProvider>(new NamedDeviceProvider("half-configured"));
        throw new InvalidOperationException("the upstream endpoint is not configured");
    }
}
