namespace Broker.Plugins.Loading;

/// <summary>A plug-in's <c>plugin.json</c>, validated.</summary>
public sealed record PluginManifest
{
    /// <summary>The file name of the manifest in a plug-in's folder.</summary>
    public const string FileName = "plugin.json";

    /// <summary>The full name of the entry type (without its assembly).</summary>
    public required string EntryType { get; init; }

    /// <summary>The file name of the plug-in's main assembly, in the plug-in's folder.</summary>
    public required string AssemblyFileName { get; init; }

    /// <summary>The oldest contract version the plug-in runs on (the contract version it was built against).</summary>
    public required Version MinimumContractVersion { get; init; }

    /// <summary>Whether the plug-in's load context is collectible, so the plug-in can be unloaded.</summary>
    public bool Collectible { get; init; }

    /// <summary>
    /// Whether the plug-in takes every assembly the host ships (its own and its dependencies, not just the contract
    /// and the shared frameworks) from the host, so the host's internal types are the plug-in's. For plug-ins built
    /// with the broker (the built-in ones); the host's internal types carry no compatibility promise.
    /// </summary>
    public bool ShareHostAssemblies { get; init; }
}
