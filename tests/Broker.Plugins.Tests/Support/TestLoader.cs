using Broker.Plugins.Loading;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Logging.Abstractions;

namespace Broker.Plugins.Tests.Support;

/// <summary>A <see cref="PluginLoader"/> over an in-memory configuration.</summary>
internal static class TestLoader
{
    public static PluginLoader Create(params (string Key, string Value)[] settings) =>
        new(Configuration(settings), NullLoggerFactory.Instance);

    public static IConfiguration Configuration(params (string Key, string Value)[] settings) =>
        new ConfigurationBuilder()
            .AddInMemoryCollection(settings.Select(setting => KeyValuePair.Create(setting.Key, (string?)setting.Value)))
            .Build();
}
