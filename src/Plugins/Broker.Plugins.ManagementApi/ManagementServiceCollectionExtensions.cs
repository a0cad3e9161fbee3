using Broker.Core.Hub;
using Broker.Core.Security;
using Broker.Core.Storage;
using Broker.Management.Events;
using Broker.Management.Server;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Broker.Management;

/// <summary>Registers the management gRPC API (the ManagementApi plug-in does, and the management tests host it directly).</summary>
public static class ManagementServiceCollectionExtensions
{
    /// <summary>
    /// Adds gRPC and the management services. The host registers <c>IHubStore</c>, <c>IdentityRegistry</c>,
    /// <c>SharedAccessPolicies</c>, <c>IOptions&lt;HubOptions&gt;</c> and <c>TimeProvider</c>; map the endpoints
    /// with <see cref="ManagementEndpointRouteBuilderExtensions.MapBrokerManagement"/>.
    /// </summary>
    public static IServiceCollection AddBrokerManagement(this IServiceCollection services)
    {
        ArgumentNullException.ThrowIfNull(services);
        // The interceptor is attached per service so other gRPC services the host may add keep their own error handling.
        services.AddGrpc()
            .AddServiceOptions<RegistryGrpcService>(options => options.Interceptors.Add<IotHubErrorInterceptor>())
            .AddServiceOptions<PoliciesGrpcService>(options => options.Interceptors.Add<IotHubErrorInterceptor>())
            .AddServiceOptions<EventsGrpcService>(options => options.Interceptors.Add<IotHubErrorInterceptor>())
            .AddServiceOptions<CloudToDeviceGrpcService>(options => options.Interceptors.Add<IotHubErrorInterceptor>())
            .AddServiceOptions<MethodsGrpcService>(options => options.Interceptors.Add<IotHubErrorInterceptor>())
            .AddServiceOptions<TwinsGrpcService>(options => options.Interceptors.Add<IotHubErrorInterceptor>());
        services.TryAddSingleton(provider => new ConsumerGroups(provider.GetRequiredService<IHubStore>()));
        services.TryAddSingleton<IotHubErrorInterceptor>();
        services.TryAddSingleton(provider => new CallAuthorizer(
            new ServiceAuthenticator(
                provider.GetRequiredService<IOptions<HubOptions>>().Value.HostName,
                provider.GetRequiredService<SharedAccessPolicies>(),
                provider.GetRequiredService<TimeProvider>()),
            provider.GetRequiredService<SharedAccessPolicies>(),
            provider.GetRequiredService<TimeProvider>(),
            provider.GetRequiredService<ILogger<CallAuthorizer>>()));
        return services;
    }
}
