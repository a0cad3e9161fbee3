using Broker.Management.Server;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Routing;

namespace Broker.Management;

/// <summary>Maps the management gRPC API.</summary>
public static class ManagementEndpointRouteBuilderExtensions
{
    /// <summary>
    /// Maps the <c>broker.management.v1</c> registry, policy, events, cloud-to-device, twin and method services. The returned builder
    /// applies to all, so the host can confine them to its management endpoint (e.g. <c>.RequireHost("*:8081")</c>).
    /// </summary>
    public static IEndpointConventionBuilder MapBrokerManagement(this IEndpointRouteBuilder endpoints)
    {
        ArgumentNullException.ThrowIfNull(endpoints);
        return new CompositeConventionBuilder(
        [
            endpoints.MapGrpcService<RegistryGrpcService>(),
            endpoints.MapGrpcService<PoliciesGrpcService>(),
            endpoints.MapGrpcService<EventsGrpcService>(),
            endpoints.MapGrpcService<CloudToDeviceGrpcService>(),
            endpoints.MapGrpcService<MethodsGrpcService>(),
            endpoints.MapGrpcService<TwinsGrpcService>(),
        ]);
    }
}
