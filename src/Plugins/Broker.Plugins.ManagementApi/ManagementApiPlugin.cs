using Broker.Management;
using Broker.Plugins.Management;
using Broker.Plugins.ManagementApi.Rest;
using Broker.Plugins.ManagementApi.Surfaces;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;

namespace Broker.Plugins.ManagementApi;

/// <summary>
/// The management gRPC API (<c>broker.management.v1</c>: registry, policies, events) as a built-in plug-in. It adds
/// gRPC and its services, and maps them through the host's <see cref="IManagementEndpointContributor"/> hook, which
/// confines them to the management listener. It uses the host's ASP.NET Core, gRPC and registry
/// (<c>"shareHostAssemblies": true</c>) and is not collectible: the host's web stack keeps its types.
/// </summary>
public sealed class ManagementApiPlugin : IBrokerPlugin
{
    /// <inheritdoc />
    public void ConfigureServices(IServiceCollection services, PluginContext context)
    {
        ArgumentNullException.ThrowIfNull(services);
        services.AddBrokerManagement();
        services.AddSingleton<IManagementEndpointContributor, ManagementEndpoints>();
        // The contract's management surfaces: the hub's service client for plug-ins, and their routes under /plugins/.
        services.AddSingleton<IHubServiceClient, HubServiceClient>();
        services.AddSingleton<IManagementEndpointContributor, PluginSurfaceEndpoints>();
        // IoT Hub's service REST API, which the host serves on its public HTTPS listener.
        services.AddSingleton<IServiceEndpointContributor, ServiceRestEndpoints>();
    }

    private sealed class ManagementEndpoints : IManagementEndpointContributor
    {
        public IEndpointConventionBuilder MapEndpoints(IEndpointRouteBuilder endpoints) => endpoints.MapBrokerManagement();
    }
}
