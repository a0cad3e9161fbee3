using Broker.Plugins.Loading;
using Broker.Plugins.Tests.Support;

namespace Broker.Plugins.Tests;

/// <summary>Every way a plug-in can be broken gives an error that names it, its folder and the reason.</summary>
[Collection(PluginsCollection.Name)]
public sealed class BrokenPluginTests(PluginBuildFixture fixture)
{
    [Fact]
    public void Load_EntryTypeMissing_FailsNamingPluginAndType()
    {
        var error = LoadBroken("Typo", PluginsDirectory.LifecycleManifest("CollectiblePlugn"));

        Assert.Equal(PluginLoadFailureReason.EntryTypeMissing, error.Reason);
        Assert.Contains("Broker.TestPlugins.Lifecycle.CollectiblePlugn", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Load_EntryTypeNotPlugin_FailsNamingInterface()
    {
        var error = LoadBroken("Imposter", PluginsDirectory.LifecycleManifest("NotAPlugin"));

        Assert.Equal(PluginLoadFailureReason.EntryTypeNotPlugin, error.Reason);
        Assert.Contains("does not implement Broker.Plugins.IBrokerPlugin", error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("1.1", PluginLoadFailureReason.HostContractTooOld)]
    [InlineData("2.0", PluginLoadFailureReason.HostContractTooOld)]
    [InlineData("0.9", PluginLoadFailureReason.HostContractTooNew)]
    public void Load_ContractVersionIncompatible_FailsNamingBothVersions(string minimum, PluginLoadFailureReason reason)
    {
        var error = LoadBroken("Versioned", PluginsDirectory.LifecycleManifest("CollectiblePlugin", minimumContractVersion: minimum));

        Assert.Equal(reason, error.Reason);
        Assert.Contains($"contract {minimum}", error.Message, StringComparison.Ordinal);
        Assert.Contains($"provides contract {PluginLoader.ContractVersion}", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Load_ConstructorThrows_FailsWithPluginsException()
    {
        var error = LoadBroken("Unlicensed", PluginsDirectory.LifecycleManifest("ThrowingConstructorPlugin"));

        Assert.Equal(PluginLoadFailureReason.ConstructorThrew, error.Reason);
        Assert.Contains("no licence file found", error.Message, StringComparison.Ordinal);
        Assert.IsType<InvalidOperationException>(error.InnerException);
    }

    [Fact]
    public void Load_ManifestMissing_FailsNamingFile()
    {
        var error = LoadBroken("Bare", manifest: null);

        Assert.Equal(PluginLoadFailureReason.ManifestMissing, error.Reason);
        Assert.Contains("no plugin.json", error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("{ \"entryType\": ", "not valid")]
    [InlineData("{ \"minimumContractVersion\": \"1.0\" }", "no \"entryType\"")]
    [InlineData("{ \"entryType\": \"Broker.TestPlugins.Lifecycle.CollectiblePlugin\", \"minimumContractVersion\": \"1.0\" }", "names no assembly")]
    [InlineData("{ \"entryType\": \"Broker.TestPlugins.Lifecycle!Broker.TestPlugins.Lifecycle.CollectiblePlugin\" }", "no \"minimumContractVersion\"")]
    [InlineData("{ \"entryType\": \"X.Y\", \"assembly\": \"../other/Evil.dll\", \"minimumContractVersion\": \"1.0\" }", "not a path")]
    public void Load_ManifestInvalid_FailsSayingWhat(string manifest, string expected)
    {
        var error = LoadBroken("Garbled", manifest);

        Assert.Equal(PluginLoadFailureReason.ManifestInvalid, error.Reason);
        Assert.Contains(expected, error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Load_AssemblyMissing_FailsNamingAssembly()
    {
        var error = LoadBroken("Hollow", """{ "entryType": "Gone!Gone.Plugin", "minimumContractVersion": "1.0" }""");

        Assert.Equal(PluginLoadFailureReason.AssemblyMissing, error.Reason);
        Assert.Contains("Gone.dll", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Load_DepsJsonMissing_LoadsFromFolder()
    {
        var plugins = fixture.NewPluginsDirectory();
        string folder = plugins.Add("Copied", PluginBuildFixture.Lifecycle, PluginsDirectory.LifecycleManifest("CollectiblePlugin"));
        File.Delete(Path.Combine(folder, "Broker.TestPlugins.Lifecycle.deps.json"));

        var catalog = TestLoader.Create().Load(plugins.Path);

        Assert.Equal("Copied", Assert.Single(catalog.Plugins).Name);
    }

    [Fact]
    public void Load_DepsJsonCorrupt_FailsAssemblyInvalid()
    {
        var plugins = fixture.NewPluginsDirectory();
        string folder = plugins.Add("Corrupt", PluginBuildFixture.Lifecycle, PluginsDirectory.LifecycleManifest("CollectiblePlugin"));
        File.WriteAllText(Path.Combine(folder, "Broker.TestPlugins.Lifecycle.deps.json"), "{ not json");

        var error = Assert.Throws<PluginLoadException>(() => TestLoader.Create().Load(plugins.Path));

        Assert.Equal("Corrupt", error.PluginName);
        Assert.Equal(PluginLoadFailureReason.AssemblyInvalid, error.Reason);
        Assert.Contains(".deps.json", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Load_NotAnAssembly_FailsAssemblyInvalid()
    {
        var error = LoadBroken("Text", """{ "entryType": "Broker.TestPlugins.Lifecycle.CollectiblePlugin", "assembly": "plugin.json", "minimumContractVersion": "1.0" }""");

        Assert.Equal(PluginLoadFailureReason.AssemblyInvalid, error.Reason);
    }

    private PluginLoadException LoadBroken(string name, string? manifest)
    {
        var plugins = fixture.NewPluginsDirectory();
        string folder = plugins.Add(name, PluginBuildFixture.Lifecycle, manifest);

        var error = Assert.Throws<PluginLoadException>(() => TestLoader.Create().Load(plugins.Path));

        Assert.Equal(name, error.PluginName);
        Assert.Equal(folder, error.Directory);
        Assert.True(error.IsRequired);
        Assert.StartsWith($"Plug-in '{name}' ({folder}) failed to load: ", error.Message, StringComparison.Ordinal);
        return error;
    }
}
