using MQTTnet;
using System.Runtime.Loader;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Broker.Plugins.Authentication;
using Broker.Plugins.Loading;
using Broker.Plugins.Tests.Support;
using Microsoft.Extensions.DependencyInjection;
using Xunit.Abstractions;

namespace Broker.Plugins.Tests;

/// <summary>The sample plug-in, built against the packed contract package, loaded and used as the host will.</summary>
[Collection(PluginsCollection.Name)]
public sealed class AllowListSampleTests(PluginBuildFixture fixture, ITestOutputHelper output)
{
    private const string Name = PluginBuildFixture.Sample;

    [Fact]
    public async Task Load_SampleBuiltFromPackage_AdmitsListedCertificateOnly()
    {
        output.WriteLine($"Test plug-ins packed and built in {fixture.BuildTime.TotalSeconds:F1} s.");
        using var listed = CreateCertificate("device-1");
        using var other = CreateCertificate("device-1");
        var plugins = fixture.NewPluginsDirectory();
        string folder = plugins.Add(Name, PluginBuildFixture.Sample);
        File.WriteAllText(Path.Combine(folder, "allowlist.txt"), $"# test list\ndevice-1 {Thumbprint(listed)}\n");

        var catalog = TestLoader.Create().Load(plugins.Path);

        var plugin = Assert.Single(catalog.Plugins);
        Assert.Equal(Name, plugin.Name);
        Assert.Equal(folder, plugin.Directory);
        Assert.Equal("1.2.0", plugin.Version.Split('+')[0]);
        Assert.True(plugin.IsCollectible);
        Assert.Equal("AllowListAuthenticator.AllowListPlugin", plugin.Manifest.EntryType);
        Assert.Empty(catalog.Failures);

        var services = new ServiceCollection();
        catalog.ConfigureServices(services);
        await using var provider = services.BuildServiceProvider();
        var authenticator = Assert.Single(provider.GetServices<IDeviceAuthenticationProvider>());

        var admitted = await authenticator.AuthenticateAsync(Request("device-1", listed.RawData), CancellationToken.None);
        Assert.Equal(DeviceAuthenticationOutcome.Succeeded, admitted.Outcome);
        Assert.Equal("x509-allowlist", admitted.AuthenticationMethod);
        Assert.Equal(new DateTimeOffset(listed.NotAfter.ToUniversalTime()), admitted.ExpiresAt);

        var wrongCertificate = await authenticator.AuthenticateAsync(Request("device-1", other.RawData), CancellationToken.None);
        Assert.Equal(DeviceAuthenticationOutcome.Declined, wrongCertificate.Outcome);
        Assert.Contains("device-1", wrongCertificate.Reason, StringComparison.Ordinal);

        var unlisted = await authenticator.AuthenticateAsync(Request("device-2", listed.RawData), CancellationToken.None);
        Assert.Equal(DeviceAuthenticationOutcome.NotMine, unlisted.Outcome);

        var tokenDevice = await authenticator.AuthenticateAsync(Request("device-1", null) with { SasToken = "SharedAccessSignature sr=x&sig=y&se=1" }, CancellationToken.None);
        Assert.Equal(DeviceAuthenticationOutcome.NotMine, tokenDevice.Outcome);
    }

    [Fact]
    public async Task Broker_SampleInItsPluginsFolder_AdmitsTheListedDeviceOverMqttAndRefusesOthers()
    {
        using var listed = CreateCertificate("plugin-device");
        using var other = CreateCertificate("plugin-device");
        var plugins = fixture.NewPluginsDirectory();
        string folder = plugins.Add(Name, PluginBuildFixture.Sample);
        File.WriteAllText(Path.Combine(folder, "allowlist.txt"), $"plugin-device {Thumbprint(listed)}\n");

        await using var broker = await Broker.Host.Tests.Support.TestBroker.StartAsync(new Broker.Host.Tests.Support.TestBrokerOptions
        {
            Output = output,
            Settings = new Dictionary<string, string?> { ["Plugins:Directory"] = plugins.Path },
        });
        var catalog = broker.Services.GetRequiredService<PluginCatalog>();
        // The operator's folder is elsewhere; the built-in plug-ins still come from plugins/ beside the broker.
        Assert.Equal(["DeviceAuth", "ManagementApi", Name], catalog.Plugins.Select(p => p.Name));
        Assert.Equal(Path.Combine(AppContext.BaseDirectory, "plugins", "DeviceAuth"), catalog.Plugins[0].Directory);
        Assert.Equal(folder, catalog.Plugins[2].Directory);

        // The device is not in the registry: only the plug-in can admit it.
        using var admitted = new MQTTnet.MqttClientFactory().CreateMqttClient();
        var result = await admitted.ConnectAsync(Broker.Host.Tests.Support.DeviceMqtt.Options(broker, "plugin-device", password: null, tls: true, listed));
        Assert.Equal(MQTTnet.MqttClientConnectResultCode.Success, result.ResultCode);
        await admitted.DisconnectAsync();

        using var refused = new MQTTnet.MqttClientFactory().CreateMqttClient();
        result = await refused.ConnectAsync(Broker.Host.Tests.Support.DeviceMqtt.Options(broker, "plugin-device", password: null, tls: true, other));
        Assert.Equal(MQTTnet.MqttClientConnectResultCode.NotAuthorized, result.ResultCode);
    }

    [Fact]
    public void Load_SampleShipsContractCopy_ContractAndAbstractionsComeFromHost()
    {
        var plugins = fixture.NewPluginsDirectory();
        string folder = plugins.Add(Name, PluginBuildFixture.Sample);
        File.WriteAllText(Path.Combine(folder, "allowlist.txt"), "");
        // The package reference copies the contract next to the plug-in; the loader must not load that copy.
        Assert.True(File.Exists(Path.Combine(folder, "Broker.Plugins.Abstractions.dll")));
        Assert.True(File.Exists(Path.Combine(folder, "Microsoft.Extensions.DependencyInjection.Abstractions.dll")));

        var plugin = Assert.Single(TestLoader.Create().Load(plugins.Path).Plugins);

        var context = AssemblyLoadContext.GetLoadContext(plugin.Assembly)!;
        Assert.Equal("Plugin:" + Name, context.Name);
        Assert.True(context.IsCollectible);
        string[] own = [.. context.Assemblies.Select(assembly => assembly.GetName().Name!)];
        Assert.Contains("AllowListAuthenticator", own);
        Assert.DoesNotContain("Broker.Plugins.Abstractions", own);
        Assert.DoesNotContain("Microsoft.Extensions.DependencyInjection.Abstractions", own);
        Assert.IsAssignableFrom<IBrokerPlugin>(plugin.Plugin);
    }

    [Fact]
    public async Task ConfigureServices_DeclineUnlistedInPluginSection_UnlistedDeviceDeclined()
    {
        using var listed = CreateCertificate("device-1");
        var plugins = fixture.NewPluginsDirectory();
        string folder = plugins.Add(Name, PluginBuildFixture.Sample);
        string list = Path.Combine(fixture.WorkDirectory, $"elsewhere-{Guid.NewGuid():N}.txt");
        File.WriteAllText(list, $"device-1 {Thumbprint(listed)}\n");
        File.Delete(Path.Combine(folder, "allowlist.txt"));
        var loader = TestLoader.Create(
            ($"Plugins:{Name}:DeclineUnlisted", "true"),
            ($"Plugins:{Name}:File", list));

        var catalog = loader.Load(plugins.Path);
        var services = new ServiceCollection();
        catalog.ConfigureServices(services);
        await using var provider = services.BuildServiceProvider();
        var authenticator = provider.GetRequiredService<IDeviceAuthenticationProvider>();

        var unlisted = await authenticator.AuthenticateAsync(Request("device-2", listed.RawData), CancellationToken.None);
        Assert.Equal(DeviceAuthenticationOutcome.Declined, unlisted.Outcome);
        var admitted = await authenticator.AuthenticateAsync(Request("device-1", listed.RawData), CancellationToken.None);
        Assert.Equal(DeviceAuthenticationOutcome.Succeeded, admitted.Outcome);
    }

    [Fact]
    public void ConfigureServices_AllowListFileMissing_FailsNamingPluginAndFile()
    {
        var plugins = fixture.NewPluginsDirectory();
        string folder = plugins.Add(Name, PluginBuildFixture.Sample);
        File.Delete(Path.Combine(folder, "allowlist.txt"));
        var catalog = TestLoader.Create().Load(plugins.Path);

        var services = new ServiceCollection();
        var error = Assert.Throws<PluginLoadException>(() => catalog.ConfigureServices(services));

        Assert.Equal(PluginLoadFailureReason.ConfigureServicesThrew, error.Reason);
        Assert.Equal(Name, error.PluginName);
        Assert.Contains("allowlist.txt", error.Message, StringComparison.Ordinal);
        Assert.Empty(services);
    }

    private static DeviceAuthenticationRequest Request(string deviceId, byte[]? certificate) => new()
    {
        HostName = "hub.example",
        DeviceId = deviceId,
        ClientCertificate = certificate,
    };

    private static X509Certificate2 CreateCertificate(string subject)
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest("CN=" + subject, key, HashAlgorithmName.SHA256);
        var now = DateTimeOffset.UtcNow;
        return request.CreateSelfSigned(now.AddDays(-1), now.AddDays(30));
    }

    private static string Thumbprint(X509Certificate2 certificate) => Convert.ToHexString(SHA256.HashData(certificate.RawData));
}
