using Broker.Plugins;
using Broker.Plugins.Routing;
using Microsoft.Extensions.DependencyInjection;

namespace Broker.TestPlugins.JsonSink;

/// <summary>Registers a routing endpoint sink named after the plug-in that writes batches with Newtonsoft.Json.</summary>
public sealed class JsonSinkPlugin : IBrokerPlugin
{
    public void ConfigureServices(IServiceCollection services, PluginContext context)
    {
        string output = context.Configuration["OutputPath"] ?? throw new InvalidOperationException($"Plugins:{context.Name}:OutputPath is not set.");
        services.AddKeyedSingleton<IEndpointSink>(context.Name, new JsonFileSink(context.Name, output));
    }
}
