using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;

namespace Broker.Protocols.Mqtt.Server;

/// <summary>Registers the MQTT engine with a dialect.</summary>
public static class MqttServiceCollectionExtensions
{
    /// <summary>
    /// Adds the MQTT connection handler, its connection monitor and <typeparamref name="TPolicy"/> as the dialect.
    /// Needs a <see cref="TimeProvider"/> (TimeProvider.System is added if none is registered).
    /// </summary>
    public static IServiceCollection AddMqttServer<TPolicy>(this IServiceCollection services, Action<MqttServerOptions>? configure = null)
        where TPolicy : class, IMqttConnectPolicy
    {
        services.AddOptions<MqttServerOptions>();
        if (configure is not null)
        {
            services.Configure(configure);
        }

        services.TryAddSingleton(TimeProvider.System);
        services.TryAddSingleton<MqttConnectionMonitor>();
        services.TryAddSingleton<IMqttConnectPolicy, TPolicy>();
        services.TryAddSingleton<MqttConnectionHandler>();
        return services;
    }
}
