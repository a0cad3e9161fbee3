using System.Text;
using System.Text.Json;
using Broker.Plugins.Routing;
using Broker.Plugins.Tests.Support;
using Microsoft.Extensions.DependencyInjection;

namespace Broker.Plugins.Tests;

/// <summary>Each plug-in resolves its own dependencies from its folder, whatever other plug-ins and the host use.</summary>
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

        RoutedMessage[] batch =
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
        await provider.GetRequiredKeyedService<IEndpointSink>("JsonSinkV12").WriteAsync(batch, CancellationToken.None);
        await provider.GetRequiredKeyedService<IEndpointSink>("JsonSinkV13").WriteAsync(batch, CancellationToken.None);

        AssertWrittenBy(out12, "12.0.0.0", "Plugin:JsonSinkV12");
        AssertWrittenBy(out13, "13.0.0.0", "Plugin:JsonSinkV13");
    }

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
