using Broker.Plugins;
using Microsoft.Extensions.DependencyInjection;

namespace Broker.TestPlugins.Lifecycle;

public sealed class ThrowingConstructorPlugin : IBrokerPlugin
{
    public ThrowingConstructorPlugin() => throw new InvalidOperationException("no licence file found");

    public void ConfigureServices(IServiceCollection services, PluginContext context)
    {
    }
}
