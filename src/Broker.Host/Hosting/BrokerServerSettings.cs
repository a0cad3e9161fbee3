using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Broker.Host.Hosting;

/// <summary>How a <see cref="BrokerServer"/> is created: where its configuration comes from and what a test may replace.</summary>
public sealed class BrokerServerSettings
{
    /// <summary>A JSON configuration file that must exist; when null, <c>appsettings.json</c> in the current directory is read if present.</summary>
    public string? ConfigFile { get; init; }

    /// <summary>
    /// Whether <c>appsettings.json</c> (when <see cref="ConfigFile"/> is null) and <c>BROKER_</c> environment variables are
    /// read (default true). Test hosts turn this off so that a developer's environment cannot change them.
    /// </summary>
    public bool UseAmbientSources { get; init; } = true;

    /// <summary>Settings from the command line as configuration keys (e.g. <c>Listeners:MqttPort</c>); they win over every other source.</summary>
    public IReadOnlyDictionary<string, string?> Overrides { get; init; } = new Dictionary<string, string?>();

    /// <summary>The clock of the hub and the store (default <see cref="TimeProvider.System"/>).</summary>
    public TimeProvider Time { get; init; } = TimeProvider.System;

    /// <summary>Replaces the console logging (tests route logs to their output); null keeps the console.</summary>
    public Action<ILoggingBuilder>? ConfigureLogging { get; init; }

    /// <summary>
    /// The folder that holds the built-in plug-ins (DeviceAuth, ManagementApi); null means <c>plugins/</c> beside the
    /// executable, where build and publish put them. Not a configuration key: the built-in plug-ins belong to the
    /// installation, and a test points this elsewhere to prove what a broken installation does.
    /// </summary>
    public string? BuiltInPluginsDirectory { get; init; }

    /// <summary>Runs after the broker's own registrations, so a test can add or replace services.</summary>
    public Action<IServiceCollection>? ConfigureServices { get; init; }
}
