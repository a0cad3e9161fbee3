namespace Broker.Plugins.Loading;

/// <summary>The manifest as written; <see cref="PluginManifestReader"/> checks it.</summary>
internal sealed class PluginManifestJson
{
    public string? EntryType { get; set; }

    public string? Assembly { get; set; }

    public string? MinimumContractVersion { get; set; }

    public bool? Collectible { get; set; }

    public bool? ShareHostAssemblies { get; set; }
}
