using Broker.Protocols.Amqp.Server;
using Microsoft.Extensions.DependencyInjection;

namespace Broker.Protocols.Amqp.IotHub;

/// <summary>Registers the AMQP engine with IoT Hub's links and SASL rules.</summary>
public static class IotHubAmqpServiceCollectionExtensions
{
    public static IServiceCollection AddIotHubAmqp(this IServiceCollection services, Action<AmqpServerOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(services);
        services.AddAmqpServer(configure);
        services.AddSingleton<IotHubAmqpHub>();
        services.AddSingleton<IAmqpLinkHandler>(provider => provider.GetRequiredService<IotHubAmqpHub>());
        services.AddSingleton<IAmqpSaslAuthenticator>(provider => provider.GetRequiredService<IotHubAmqpHub>());
        return services;
    }
}
