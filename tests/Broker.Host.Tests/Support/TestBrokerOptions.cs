using Microsoft.Extensions.DependencyInjection;
using Xunit.Abstractions;

namespace Broker.Host.Tests.Support;

/// <summary>How a <see cref="TestBroker"/> starts; the defaults suit most integration tests.</summary>
public sealed class TestBrokerOptions
{
    /// <summary>The hub's host name (default <c>localhost</c>, which the generated server certificate names).</summary>
    public string HostName { get; init; } = "localhost";

    /// <summary>A data directory to use (and keep); null creates a temporary one that dispose deletes.</summary>
    public string? DataDirectory { get; init; }

    /// <summary>The partition count of a new store; null keeps the store's default.</summary>
    public int? Partitions { get; init; }

    /// <summary>A JSON configuration file, read as <c>broker serve --config</c> would.</summary>
    public string? ConfigFile { get; init; }

    /// <summary>Whether appsettings.json in the current directory and BROKER_ environment variables are read too (default false).</summary>
    public bool UseAmbientSources { get; init; }

    /// <summary>More configuration keys (e.g. <c>["Mqtt:ConnectTimeout"] = "00:00:02"</c>, or a port set to "0" to turn a listener off); they win over the defaults here.</summary>
    public IReadOnlyDictionary<string, string?> Settings { get; init; } = new Dictionary<string, string?>();

    /// <summary>Where the broker's log goes; null discards it.</summary>
    public ITestOutputHelper? Output { get; init; }

    /// <summary>The hub's clock (default the system clock).</summary>
    public TimeProvider? Time { get; init; }

    /// <summary>The folder of the built-in plug-ins; null uses <c>plugins/</c> beside the test assembly, where the build puts them.</summary>
    public string? BuiltInPluginsDirectory { get; init; }

    /// <summary>Adds or replaces services after the broker's own registrations.</summary>
    public Action<IServiceCollection>? ConfigureServices { get; init; }
}
