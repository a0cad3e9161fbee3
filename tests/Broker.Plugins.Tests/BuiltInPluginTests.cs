using System.Runtime.Loader;
using System.Security.Cryptography;
using Broker.Core.Security;
using Broker.Host.Tests.Support;
using Broker.Plugins.Loading;
using Broker.Plugins.Tests.Support;
using Microsoft.Extensions.DependencyInjection;
using MQTTnet;
using Xunit.Abstractions;

namespace Broker.Plugins.Tests;

/// <summary>
/// The broker's device authentication and management API are plug-ins in <c>plugins/</c> beside it, loaded by the
/// plug-in loader like any other, and required.
/// </summary>
[Collection(PluginsCollection.Name)]
public sealed class BuiltInPluginTests(PluginBuildFixture fixture, ITestOutputHelper output)
{
    private static readonly string[] BuiltIn = ["DeviceAuth", "ManagementApi"];

    /// <summary>Where the build put them: <c>plugins/</c> beside this test assembly, as beside the broker.</summary>
    private static string BuiltInDirectory => Path.Combine(AppContext.BaseDirectory, "plugins");

    [Fact]
    public async Task Broker_Started_LoadsBuiltInPluginsThroughTheLoaderSharingTheHostsAssemblies()
    {
        await using var broker = await TestBroker.StartAsync(new TestBrokerOptions { Output = output });

        var catalog = broker.Services.GetRequiredService<PluginCatalog>();
        Assert.Equal(BuiltInDirectory, catalog.BuiltInDirectory);
        Assert.Equal(BuiltIn, catalog.Plugins.Select(plugin => plugin.Name));
        Assert.Empty(catalog.Failures);
        foreach (var plugin in catalog.Plugins)
        {
            Assert.True(plugin.IsBuiltIn);
            Assert.True(plugin.IsRequired);
            Assert.Equal(Path.Combine(BuiltInDirectory, plugin.Name), plugin.Directory);
            Assert.Equal(Path.Combine(plugin.Directory, $"Broker.Plugins.{plugin.Name}.dll"), plugin.AssemblyPath);
            Assert.True(plugin.Manifest.ShareHostAssemblies);
            var context = AssemblyLoadContext.GetLoadContext(plugin.Assembly)!;
            Assert.Equal("Plugin:" + plugin.Name, context.Name);
            // Broker.Core, Broker.Management, gRPC and ASP.NET Core are the host's: only the plug-in's own assembly is in its context.
            Assert.Equal([$"Broker.Plugins.{plugin.Name}"], context.Assemblies.Select(assembly => assembly.GetName().Name));
        }

        Assert.True(catalog.Plugins.Single(plugin => plugin.Name == "DeviceAuth").IsCollectible);
        Assert.False(catalog.Plugins.Single(plugin => plugin.Name == "ManagementApi").IsCollectible);
        var authenticator = broker.Services.GetRequiredKeyedService<IDeviceAuthenticator>(DeviceAuthenticatorKeys.BuiltIn);
        Assert.IsType<DeviceAuthenticator>(authenticator);
    }

    [Fact]
    public async Task Broker_BuiltInDeviceAuth_AdmitsSasDeviceAndRefusesWrongToken()
    {
        await using var broker = await TestBroker.StartAsync(new TestBrokerOptions { Output = output });
        var device = await broker.CreateDeviceAsync("builtin-sas");

        using var admitted = new MqttClientFactory().CreateMqttClient();
        var result = await admitted.ConnectAsync(DeviceMqtt.Options(broker, "builtin-sas",
            broker.CreateSasToken("builtin-sas", TestBroker.PrimaryKeyOf(device)), tls: false));
        Assert.Equal(MqttClientConnectResultCode.Success, result.ResultCode);
        await admitted.DisconnectAsync();

        using var refused = new MqttClientFactory().CreateMqttClient();
        result = await refused.ConnectAsync(DeviceMqtt.Options(broker, "builtin-sas",
            broker.CreateSasToken("builtin-sas", Convert.ToBase64String(RandomNumberGenerator.GetBytes(32))), tls: false));
        Assert.Equal(MqttClientConnectResultCode.NotAuthorized, result.ResultCode);
    }

    [Theory]
    [InlineData("DeviceAuth")]
    [InlineData("ManagementApi")]
    public async Task Broker_BuiltInPluginMissing_RefusesToStartNamingIt(string missing)
    {
        string directory = Path.Combine(fixture.WorkDirectory, "builtin-" + Guid.NewGuid().ToString("N"));
        foreach (string name in BuiltIn.Where(name => name != missing))
        {
            PluginBuildFixture.CopyDirectory(Path.Combine(BuiltInDirectory, name), Path.Combine(directory, name));
        }

        var error = await Assert.ThrowsAsync<PluginLoadException>(() => TestBroker.StartAsync(new TestBrokerOptions
        {
            Output = output,
            BuiltInPluginsDirectory = directory,
            // Not even "go on without failing plug-ins" lets the broker start without one of its own.
            Settings = new Dictionary<string, string?> { ["Plugins:FailOnError"] = "false" },
        }));

        Assert.Equal(missing, error.PluginName);
        Assert.Equal(PluginLoadFailureReason.NotFound, error.Reason);
        Assert.True(error.IsRequired);
        Assert.Equal(Path.Combine(directory, missing), error.Directory);
        Assert.Contains($"built-in plug-in {missing} is missing", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Broker_BuiltInPluginDisabled_RefusesToStart()
    {
        var error = await Assert.ThrowsAsync<PluginLoadException>(() => TestBroker.StartAsync(new TestBrokerOptions
        {
            Output = output,
            Settings = new Dictionary<string, string?> { ["Plugins:ManagementApi:Enabled"] = "false" },
        }));

        Assert.Equal("ManagementApi", error.PluginName);
        Assert.Equal(PluginLoadFailureReason.ConfigurationInvalid, error.Reason);
        Assert.Contains("always required", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Inspect_OperatorFolderNamedAfterBuiltIn_RefusedWhileTheBuiltInLoads()
    {
        var plugins = fixture.NewPluginsDirectory();
        plugins.Add("DeviceAuth", PluginBuildFixture.Lifecycle, PluginsDirectory.LifecycleManifest("CollectiblePlugin"));
        plugins.Add("Mine", PluginBuildFixture.Lifecycle, PluginsDirectory.LifecycleManifest("CollectiblePlugin"));

        var catalog = TestLoader.Create().Inspect(plugins.Path, new BuiltInPlugins(BuiltInDirectory, BuiltIn));

        Assert.Equal(["DeviceAuth", "ManagementApi", "Mine"], catalog.Plugins.Select(plugin => plugin.Name));
        Assert.Equal(Path.Combine(BuiltInDirectory, "DeviceAuth"), catalog.Plugins[0].Directory);
        Assert.False(catalog.Plugins[2].IsBuiltIn);
        var refused = Assert.Single(catalog.Failures);
        Assert.Equal("DeviceAuth", refused.PluginName);
        Assert.Equal(Path.Combine(plugins.Path, "DeviceAuth"), refused.Directory);
        Assert.Equal(PluginLoadFailureReason.InvalidName, refused.Reason);
    }

    [Fact]
    public void Inspect_OperatorFolderIsTheBuiltInFolder_EachBuiltInLoadsOnce()
    {
        var catalog = TestLoader.Create().Inspect(BuiltInDirectory, new BuiltInPlugins(BuiltInDirectory, BuiltIn));

        Assert.Equal(BuiltIn, catalog.Plugins.Select(plugin => plugin.Name));
        Assert.Empty(catalog.Failures);
    }
}
