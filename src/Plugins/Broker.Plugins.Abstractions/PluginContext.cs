using Microsoft.Extensions.Configuration;

namespace Broker.Plugins;

/// <summary>What the host tells a plug-in about itself when it is loaded.</summary>
public sealed record PluginContext
{
    /// <summary>The plug-in's name: the name of its folder under the host's <c>plugins</c> directory.</summary>
    public required string Name { get; init; }

    /// <summary>The full path of the plug-in's folder; files the plug-in ships (lists, certificates) are found relative to it.</summary>
    public required string Directory { get; init; }

    /// <summary>The plug-in's own configuration section, <c>Plugins:&lt;Name&gt;</c> in the host's configuration.</summary>
    public required IConfiguration Configuration { get; init; }

    /// <summary>
    /// The version of the contract (this assembly) the host provides. A plug-in built against 1.x runs on any
    /// host whose contract is 1.y with y at least x: the contract only ever grows within a major version.
    /// </summary>
    public required Version ContractVersion { get; init; }
}
