using System.Runtime.CompilerServices;
using Broker.Plugins.Authentication;
using Broker.Plugins.Loading;
using Broker.Plugins.Tests.Support;
using Microsoft.Extensions.DependencyInjection;

namespace Broker.Plugins.Tests;

/// <summary>Collectible plug-ins unload once nothing references their types.</summary>
[Collection(PluginsCollection.Name)]
public sealed class UnloadTests(PluginBuildFixture fixture)
{
    [Fact]
    public async Task UnloadAsync_CollectiblePluginAfterProviderDisposed_LoadContextIsCollected()
    {
        var plugins = fixture.NewPluginsDirectory();
        plugins.Add("Collectible", PluginBuildFixture.Lifecycle, PluginsDirectory.LifecycleManifest("CollectiblePlugin", collectible: true));

        var (catalog, unloaded) = await LoadUseAndUnloadAsync(plugins.Path);

        // Collection is not immediate; a bounded number of full collections, not a timed wait.
        for (int i = 0; unloaded.IsAlive && i < 20; i++)
        {
            GC.Collect();
            GC.WaitForPendingFinalizers();
        }

        Assert.False(unloaded.IsAlive, "the plug-in's load context is still referenced after unloading");
        Assert.Empty(catalog.Plugins);
    }

    [Fact]
    public async Task UnloadAsync_NotCollectible_ThrowsAndStaysLoaded()
    {
        var plugins = fixture.NewPluginsDirectory();
        plugins.Add("Pinned", PluginBuildFixture.Lifecycle, PluginsDirectory.LifecycleManifest("CollectiblePlugin", collectible: false));
        var catalog = TestLoader.Create().Load(plugins.Path);
        var plugin = Assert.Single(catalog.Plugins);

        var error = await Assert.ThrowsAsync<InvalidOperationException>(async () => await plugin.UnloadAsync());

        Assert.Contains("Pinned", error.Message, StringComparison.Ordinal);
        Assert.False(plugin.IsUnloaded);
        Assert.Same(plugin, Assert.Single(catalog.Plugins));
    }

    // Not inlined, so no local of the test method keeps a plug-in type alive while the test collects.
    [MethodImpl(MethodImplOptions.NoInlining)]
    private static async Task<(PluginCatalog Catalog, WeakReference Unloaded)> LoadUseAndUnloadAsync(string directory)
    {
        var catalog = TestLoader.Create(("Plugins:Collectible:Device", "sensor-9")).Load(directory);
        var plugin = Assert.Single(catalog.Plugins);
        Assert.Equal("3.1.4-test", plugin.Version.Split('+')[0]);
        var services = new ServiceCollection();
        catalog.ConfigureServices(services);
        await using (var provider = services.BuildServiceProvider())
        {
            var authenticator = provider.GetRequiredService<IDeviceAuthenticationProvider>();
            var result = await authenticator.AuthenticateAsync(new DeviceAuthenticationRequest { HostName = "hub", DeviceId = "sensor-9" }, CancellationToken.None);
            Assert.Equal(DeviceAuthenticationOutcome.Succeeded, result.Outcome);
        }

        var unloaded = await plugin.UnloadAsync();
        Assert.True(plugin.IsUnloaded);
        Assert.Throws<InvalidOperationException>(() => plugin.Plugin);
        return (catalog, unloaded);
    }
}
