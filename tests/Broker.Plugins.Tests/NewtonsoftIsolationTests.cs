using System.Text;
using System.Text.Json;
using Broker.Plugins.Routing;
using Broker.Plugins.Tests.Support;
using Microsoft.Extensions.DependencyInjection;

namespace Broker.Plugins.Tests;

/// <summary>
/// Each plug-in resolves its own dependencies from its folder, whatever other plug-ins and the host use (this test
/// host ships Newtonsoft.Json 13), unless its manifest asks for the host's assemblies.
/// </summary>
[Collection(PluginsCollection.Name)]
public sealed class NewtonsoftIsolationTests(PluginBuildFixture fixture)
{
    [Fact]
    public async Task Load_TwoPluginsOnDifferentNewtonsoftVersions_EachWritesWithItsOwn()
    {
        var plugins = fixture.NewPluginsDirectory();
        plugins.Add("JsonSinkV12", PluginBuildFixture.JsonSinkV12, PluginsDirectory.JsonSinkManifest("JsonSinkV12"));
        plugins.Add("JsonSinkV13", PluginBuildFixture.JsonSinkV13, PluginsDirectory.JsonSinkManifest("JsonSinkV13"));
        string out12 = Path.Combine(plugins.Path, "v12.jsonl");
        string out13 = Path.Combine(plugins.Path, "v13.jsonl");
        var loader = TestLoader.Create(("Plugins:JsonSinkV12:OutputPath", out12), ("Plugins:JsonSinkV13:OutputPath", out13));

        var catalog = loader.Load(plugins.Path);
        Assert.Equal(["JsonSinkV12", "JsonSinkV13"], catalog.Plugins.Select(plugin => plugin.Name));
        var services = new ServiceCollection();
        catalog.ConfigureServices(services);
        await using var provider = services.BuildServiceProvider();

        await provider.GetRequiredKeyedService<IEndpointSink>("JsonSinkV12").WriteAsync(Batch, CancellationToken.None);
        await provider.GetRequiredKeyedService<IEndpointSink>("JsonSinkV13").WriteAsync(Batch, CancellationToken.None);

        // Both keep their own copy although the host has version 13 loaded or loadable.
        AssertWrittenBy(out12, "12.0.0.0", "Plugin:JsonSinkV12");
        AssertWrittenBy(out13, "13.0.0.0", "Plugin:JsonSinkV13");
    }

    [Fact]
    public async Task Load_ShareHostAssemblies_PluginUsesTheHostsNewtonsoftInsteadOfItsOwn()
    {
        var plugins = fixture.NewPluginsDirectory();
        string folder = plugins.Add("SharingSink", PluginBuildFixture.JsonSinkV12, """
            {
              "entryType": "Broker.TestPlugins.JsonSink.JsonSinkPlugin, Broker.TestPlugins.JsonSinkV12",
              "minimumContractVersion": "1.0",
              "shareHostAssemblies": true
            }
            """);
        Assert.True(File.Exists(Path.Combine(folder, "Newtonsoft.Json.dll")));
        string output = Path.Combine(plugins.Path, "shared.jsonl");

        var catalog = TestLoader.Create(("Plugins:SharingSink:OutputPath", output)).Load(plugins.Path);
        var plugin = Assert.Single(catalog.Plugins);
        Assert.True(plugin.Manifest.ShareHostAssemblies);
        var services = new ServiceCollection();
        catalog.ConfigureServices(services);
        await using var provider = services.BuildServiceProvider();
        await provider.GetRequiredKeyedService<IEndpointSink>("SharingSink").WriteAsync(Batch, CancellationToken.None);

        // The host's 13 from the default context; the plug-in's own assembly still loads in its own context.
        AssertWrittenBy(output, "13.0.0.0", "Default");
        Assert.Equal("Plugin:SharingSink", System.Runtime.Loader.AssemblyLoadContext.GetLoadContext(plugin.Assembly)!.Name);
    }

    private static RoutedMessage[] Batch =>
    [
        new()
        {
            DeviceId = "device-1",
            EnqueuedTime = DateTimeOffset.UnixEpoch,
            SequenceNumber = 7,
            Properties = new Dictionary<string, string> { ["alert"] = "true" },
            SystemProperties = new Dictionary<string, string> { ["message-id"] = "m1" },
            Body = Encoding.UTF8.GetBytes("{\"t\":21.5}"),
        },
    ];

    private static void AssertWrittenBy(string path, string newtonsoftVersion, string loadContext)
    {
        using var line = JsonDocument.Parse(File.ReadAllLines(path).Single());
        var root = line.RootElement;
        Assert.Equal(newtonsoftVersion, root.GetProperty("newtonsoftVersion").GetString());
        Assert.Equal(loadContext, root.GetProperty("newtonsoftLoadContext").GetString());
        var message = Assert.Single(root.GetProperty("messages").EnumerateArray());
        Assert.Equal("device-1", message.GetProperty("deviceId").GetString());
        Assert.Equal("true", message.GetProperty("properties").GetProperty("alert").GetString());
        Assert.Equal("{\"t\":21.5}", message.GetProperty("body").GetString());
    }
}
