namespace Broker.Plugins.Tests.Support;

/// <summary>A plug-ins directory one test lays out from the fixture's build outputs.</summary>
public sealed class PluginsDirectory(PluginBuildFixture fixture, string path)
{
    public string Path { get; } = path;

    /// <summary>Installs a build output as plug-in <paramref name="name"/> with the manifest the project ships.</summary>
    public string Add(string name, string project)
    {
        string folder = System.IO.Path.Combine(Path, name);
        PluginBuildFixture.CopyDirectory(fixture.OutputOf(project), folder);
        return folder;
    }

    /// <summary>Installs a build output as plug-in <paramref name="name"/> with <paramref name="manifest"/> as its plugin.json, or none when null.</summary>
    public string Add(string name, string project, string? manifest)
    {
        string folder = Add(name, project);
        string manifestPath = System.IO.Path.Combine(folder, "plugin.json");
        if (manifest is null)
        {
            File.Delete(manifestPath);
        }
        else
        {
            File.WriteAllText(manifestPath, manifest);
        }

        return folder;
    }

    /// <summary>A manifest for one of the Lifecycle assembly's types, written the <c>Assembly!Type</c> way.</summary>
    public static string LifecycleManifest(string typeName, string minimumContractVersion = "1.0", bool collectible = false) => $$"""
        {
          "entryType": "Broker.TestPlugins.Lifecycle!Broker.TestPlugins.Lifecycle.{{typeName}}",
          "minimumContractVersion": "{{minimumContractVersion}}",
          "collectible": {{(collectible ? "true" : "false")}}
        }
        """;

    /// <summary>A manifest for a JSON sink assembly, written the assembly-qualified way.</summary>
    public static string JsonSinkManifest(string project) => $$"""
        {
          "entryType": "Broker.TestPlugins.JsonSink.JsonSinkPlugin, Broker.TestPlugins.{{project}}",
          "minimumContractVersion": "1.0"
        }
        """;
}
