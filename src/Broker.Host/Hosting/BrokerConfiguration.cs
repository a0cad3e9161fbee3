using Microsoft.Extensions.Configuration;

namespace Broker.Host.Hosting;

/// <summary>
/// The broker's configuration sources and keys. Later sources win: built-in defaults, then the JSON file
/// (<c>appsettings.json</c> or <c>--config</c>), then <c>BROKER_</c> environment variables (<c>__</c> separates
/// sections: <c>BROKER_Listeners__MqttPort=1884</c>), then the command line.
/// </summary>
public static class BrokerConfiguration
{
    /// <summary>The prefix of the environment variables that configure the broker.</summary>
    public const string EnvironmentPrefix = "BROKER_";

    /// <summary>The JSON file read from the current directory when no <c>--config</c> is given.</summary>
    public const string DefaultConfigFile = "appsettings.json";

    /// <summary>The data directory when none is configured.</summary>
    public const string DefaultDataDirectory = "./data";

    /// <summary>The store's data directory.</summary>
    public const string DataDirectoryKey = "Storage:DataDirectory";

    /// <summary>The partition count of a new store.</summary>
    public const string PartitionCountKey = "Storage:PartitionCount";

    /// <summary>The hub's host name (SAS resources, MQTT user names, the server certificate).</summary>
    public const string HostNameKey = "Hub:HostName";

    /// <summary>The address of the public listeners.</summary>
    public const string BindKey = BrokerListenerOptions.SectionName + ":" + nameof(BrokerListenerOptions.Bind);

    // The lowest layer: what a broker without any configuration does. Console lines are single-line and UTC so
    // that they sort and grep; the generic host's own start/stop lines are left out because the broker logs its own.
    private static readonly Dictionary<string, string?> Defaults = new(StringComparer.OrdinalIgnoreCase)
    {
        [DataDirectoryKey] = DefaultDataDirectory,
        ["Logging:LogLevel:Default"] = "Information",
        ["Logging:LogLevel:Microsoft.AspNetCore"] = "Warning",
        ["Logging:LogLevel:Microsoft.Hosting.Lifetime"] = "Warning",
        ["Logging:Console:FormatterName"] = "simple",
        ["Logging:Console:FormatterOptions:SingleLine"] = "true",
        ["Logging:Console:FormatterOptions:UseUtcTimestamp"] = "true",
        ["Logging:Console:FormatterOptions:TimestampFormat"] = "yyyy-MM-ddTHH:mm:ss.fffZ ",
    };

    /// <summary>The configuration key of <paramref name="listener"/>'s port, e.g. <c>Listeners:MqttPort</c>.</summary>
    public static string PortKey(BrokerListener listener) => $"{BrokerListenerOptions.SectionName}:{listener}Port";

    /// <summary>Adds the broker's sources to <paramref name="builder"/> in precedence order (the last added wins).</summary>
    public static IConfigurationBuilder AddBrokerSources(this IConfigurationBuilder builder, BrokerServerSettings settings)
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentNullException.ThrowIfNull(settings);
        builder.AddInMemoryCollection(Defaults);
        if (settings.ConfigFile is { } configFile)
        {
            builder.AddJsonFile(Path.GetFullPath(configFile), optional: false, reloadOnChange: false);
        }
        else if (settings.UseAmbientSources)
        {
            builder.AddJsonFile(Path.GetFullPath(DefaultConfigFile), optional: true, reloadOnChange: false);
        }

        if (settings.UseAmbientSources)
        {
            builder.AddEnvironmentVariables(EnvironmentPrefix);
        }

        builder.AddInMemoryCollection(settings.Overrides);
        return builder;
    }
}
