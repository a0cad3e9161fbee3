using Broker.Plugins;
using Broker.Plugins.Authentication;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;

namespace Broker.TestPlugins.Lifecycle;

/// <summary>A well-behaved plug-in: admits the device named in its settings, and tries to add a host service.</summary>
public sealed class CollectiblePlugin : IBrokerPlugin
{
    public void ConfigureServices(IServiceCollection services, PluginContext context)
    {
        services.AddSingleton<IDeviceAuthenticationProvider>(new NamedDeviceProvider(context.Configuration["Device"] ?? "lifecycle-device"));
        // The host's registration must win: the plug-in sees it and TryAdd skips.
        services.TryAddSingleton(TimeProvider.System);
    }
}
