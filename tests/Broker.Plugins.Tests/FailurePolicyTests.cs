using Broker.Plugins.Authentication;
using Broker.Plugins.Loading;
using Broker.Plugins.Tests.Support;
using Microsoft.Extensions.DependencyInjection;

namespace Broker.Plugins.Tests;

/// <summary><c>Plugins:FailOnError</c>, <c>Required</c> and <c>Enabled</c> decide what a failure does.</summary>
[Collection(PluginsCollection.Name)]
public sealed class FailurePolicyTests(PluginBuildFixture fixture)
{
    [Fact]
    public async Task Load_FailOnErrorFalse_GoesOnWithoutBrokenPlugin()
    {
        var plugins = GoodAndBroken();

        var catalog = TestLoader.Create(("Plugins:FailOnError", "false")).Load(plugins.Path);

        Assert.Equal("Good", Assert.Single(catalog.Plugins).Name);
        var failure = Assert.Single(catalog.Failures);
        Assert.Equal("Broken", failure.PluginName);
        Assert.Equal(PluginLoadFailureReason.ConstructorThrew, failure.Reason);
        Assert.False(failure.IsRequired);

        var services = new ServiceCollection();
        catalog.ConfigureServices(services);
        await using var provider = services.BuildServiceProvider();
        Assert.Single(provider.GetServices<IDeviceAuthenticationProvider>());
    }

    [Fact]
    public void Load_FailOnErrorDefault_StopsAtBrokenPlugin()
    {
        var plugins = GoodAndBroken();

        var error = Assert.Throws<PluginLoadException>(() => TestLoader.Create().Load(plugins.Path));

        Assert.Equal("Broken", error.PluginName);
    }

    [Fact]
    public void Load_FailOnErrorFalseButPluginRequired_StopsAtIt()
    {
        var plugins = GoodAndBroken();

        var error = Assert.Throws<PluginLoadException>(() =>
            TestLoader.Create(("Plugins:FailOnError", "false"), ("Plugins:Broken:Required", "true")).Load(plugins.Path));

        Assert.Equal("Broken", error.PluginName);
        Assert.True(error.IsRequired);
    }

    [Fact]
    public void Load_FailOnErrorTrueButPluginNotRequired_GoesOn()
    {
        var plugins = GoodAndBroken();

        var catalog = TestLoader.Create(("Plugins:Broken:Required", "false")).Load(plugins.Path);

        Assert.Equal("Good", Assert.Single(catalog.Plugins).Name);
        Assert.Equal("Broken", Assert.Single(catalog.Failures).PluginName);
    }

    [Fact]
    public void Load_BrokenPluginDisabled_NeitherLoadedNorFailed()
    {
        var plugins = GoodAndBroken();

        var catalog = TestLoader.Create(("Plugins:Broken:Enabled", "false")).Load(plugins.Path);

        Assert.Equal("Good", Assert.Single(catalog.Plugins).Name);
        Assert.Empty(catalog.Failures);
        Assert.Equal(["Broken"], catalog.Disabled);
    }

    [Fact]
    public void Inspect_RequiredPluginBroken_ReportsEverythingWithoutThrowing()
    {
        var plugins = GoodAndBroken();

        var catalog = TestLoader.Create(("Plugins:Missing:Required", "true")).Inspect(plugins.Path);

        Assert.Equal("Good", Assert.Single(catalog.Plugins).Name);
        Assert.Equal(["Broken", "Missing"], catalog.Failures.Select(failure => failure.PluginName));
        Assert.Equal(PluginLoadFailureReason.NotFound, catalog.Failures[1].Reason);
        Assert.All(catalog.Failures, failure => Assert.True(failure.IsRequired));
    }

    [Fact]
    public void Load_RequiredPluginHasNoFolder_FailsNotFound()
    {
        var plugins = fixture.NewPluginsDirectory();

        var error = Assert.Throws<PluginLoadException>(() => TestLoader.Create(("Plugins:Auth:Required", "true")).Load(plugins.Path));

        Assert.Equal(PluginLoadFailureReason.NotFound, error.Reason);
        Assert.Equal("Auth", error.PluginName);
    }

    [Fact]
    public void Load_NoPluginsDirectory_EmptyCatalog()
    {
        var catalog = TestLoader.Create().Load(Path.Combine(fixture.WorkDirectory, "no-such-directory"));

        Assert.Empty(catalog.Plugins);
        Assert.Empty(catalog.Failures);
    }

    [Fact]
    public void Load_EnabledNotBoolean_FailsConfigurationInvalid()
    {
        var plugins = fixture.NewPluginsDirectory();
        plugins.Add("Good", PluginBuildFixture.Lifecycle, PluginsDirectory.LifecycleManifest("CollectiblePlugin"));

        var error = Assert.Throws<PluginLoadException>(() => TestLoader.Create(("Plugins:Good:Enabled", "yes")).Load(plugins.Path));

        Assert.Equal(PluginLoadFailureReason.ConfigurationInvalid, error.Reason);
    }

    [Fact]
    public void ConfigureServices_PluginThrowsAndNotRequired_LeavesNoRegistrationAndGoesOn()
    {
        var plugins = fixture.NewPluginsDirectory();
        plugins.Add("Good", PluginBuildFixture.Lifecycle, PluginsDirectory.LifecycleManifest("CollectiblePlugin"));
        plugins.Add("HalfDone", PluginBuildFixture.Lifecycle, PluginsDirectory.LifecycleManifest("ThrowingConfigureServicesPlugin"));
        var catalog = TestLoader.Create(("Plugins:FailOnError", "false")).Load(plugins.Path);
        Assert.Equal(2, catalog.Plugins.Count);

        var services = new ServiceCollection();
        catalog.ConfigureServices(services);

        var failure = Assert.Single(catalog.Failures);
        Assert.Equal("HalfDone", failure.PluginName);
        Assert.Equal(PluginLoadFailureReason.ConfigureServicesThrew, failure.Reason);
        Assert.Contains("the upstream endpoint is not configured", failure.Message, StringComparison.Ordinal);
        Assert.Equal("Good", Assert.Single(catalog.Plugins).Name);
        Assert.Single(services, descriptor => descriptor.ServiceType == typeof(IDeviceAuthenticationProvider));
    }

    [Fact]
    public void ConfigureServices_PluginTryAddsHostService_HostRegistrationKept()
    {
        var plugins = fixture.NewPluginsDirectory();
        plugins.Add("Good", PluginBuildFixture.Lifecycle, PluginsDirectory.LifecycleManifest("CollectiblePlugin"));
        var catalog = TestLoader.Create().Load(plugins.Path);
        var hostTime = new HostTimeProvider();
        var services = new ServiceCollection().AddSingleton<TimeProvider>(hostTime);

        catalog.ConfigureServices(services);

        using var provider = services.BuildServiceProvider();
        Assert.Same(hostTime, provider.GetRequiredService<TimeProvider>());
        Assert.Throws<InvalidOperationException>(() => catalog.ConfigureServices(new ServiceCollection()));
    }

    private PluginsDirectory GoodAndBroken()
    {
        var plugins = fixture.NewPluginsDirectory();
        plugins.Add("Good", PluginBuildFixture.Lifecycle, PluginsDirectory.LifecycleManifest("CollectiblePlugin"));
        plugins.Add("Broken", PluginBuildFixture.Lifecycle, PluginsDirectory.LifecycleManifest("ThrowingConstructorPlugin"));
        return plugins;
    }

    private sealed class HostTimeProvider : TimeProvider;
}
