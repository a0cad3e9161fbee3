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
}
