using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;

namespace Broker.Protocols.Amqp.Server;

/// <summary>Registers the AMQP connection engine; the application registers its <see cref="IAmqpLinkHandler"/> (and SASL authenticator).</summary>
public static class AmqpServiceCollectionExtensions
{
    public static IServiceCollection AddAmqpServer(this IServiceCollection services, Action<AmqpServerOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(services);
        services.AddOptions<AmqpServerOptions>();
        if (configure is not null)
        {
            services.Configure(configure);
        }

        services.TryAddSingleton(TimeProvider.System);
        services.TryAddSingleton<AmqpConnectionMonitor>();
        services.TryAddSingleton<AmqpConnectionHandler>();
        return services;
    }
}
