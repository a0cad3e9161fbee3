using Broker.Core.Hub;
using Broker.Host.Hosting;
using Broker.Host.Tests.Support;
using Broker.Protocols.Mqtt.Server;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace Broker.Host.Tests;

[Collection(EnvironmentCollection.Name)]
public sealed class ConfigurationTests : IDisposable
{
    private readonly string _directory = TestBroker.CreateTemporaryDirectory();
    private readonly Dictionary<string, string?> _savedEnvironment = [];

    public void Dispose()
    {
        foreach (var (name, value) in _savedEnvironment)
        {
            Environment.SetEnvironmentVariable(name, value);
        }

        TestBroker.DeleteDirectory(_directory);
    }

    [Fact]
    public void AddBrokerSources_SettingInEverySource_FlagBeatsEnvironmentBeatsFileBeatsDefault()
    {
        var file = WriteConfig("""{ "Hub": { "HostName": "from-file" } }""");

        SetEnvironment("BROKER_Hub__HostName", "from-env");
        Assert.Equal("from-flag", ReadHostName(file, flag: "from-flag"));
        Assert.Equal("from-env", ReadHostName(file, flag: null));

        SetEnvironment("BROKER_Hub__HostName", null);
        Assert.Equal("from-file", ReadHostName(file, flag: null));
        Assert.Null(ReadHostName(configFile: null, flag: null)); // HubOptions' own default (localhost) applies
    }

    [Fact]
    public void AddBrokerSources_NoSettings_DataDirectoryDefaultsToDotData()
    {
        var configuration = new ConfigurationBuilder().AddBrokerSources(new BrokerServerSettings { UseAmbientSources = false }).Build();

        Assert.Equal(BrokerConfiguration.DefaultDataDirectory, configuration[BrokerConfiguration.DataDirectoryKey]);
    }

    [Fact]
    public async Task CreateAsync_SettingsFromFileEnvironmentAndFlags_ReachTheHubAndKestrel()
    {
        var file = WriteConfig("""
            {
              "Hub": { "HostName": "file.example" },
              "Mqtt": { "MaxPacketSize": 1000, "ConnectTimeout": "00:00:03" },
              "Limits": { "MaxConnections": 10 }
            }
            """);
        SetEnvironment("BROKER_Mqtt__MaxPacketSize", "2000");

        await using var broker = await TestBroker.StartAsync(new TestBrokerOptions
        {
            ConfigFile = file,
            UseAmbientSources = true,
            HostName = "flag.example",
        });

        Assert.Equal("flag.example", broker.Services.GetRequiredService<IOptions<HubOptions>>().Value.HostName);
        var mqtt = broker.Services.GetRequiredService<IOptions<MqttServerOptions>>().Value;
        Assert.Equal(2000, mqtt.MaxPacketSize);
        Assert.Equal(TimeSpan.FromSeconds(3), mqtt.ConnectTimeout);
        Assert.Equal(10, broker.Services.GetRequiredService<IOptions<KestrelServerOptions>>().Value.Limits.MaxConcurrentConnections);
    }

    private string WriteConfig(string json)
    {
        var path = Path.Combine(_directory, "broker.json");
        File.WriteAllText(path, json);
        return path;
    }

    private void SetEnvironment(string name, string? value)
    {
        _savedEnvironment.TryAdd(name, Environment.GetEnvironmentVariable(name));
        Environment.SetEnvironmentVariable(name, value);
    }

    private static string? ReadHostName(string? configFile, string? flag)
    {
        var overrides = new Dictionary<string, string?>();
        if (flag is not null)
        {
            overrides[BrokerConfiguration.HostNameKey] = flag;
        }

        var settings = new BrokerServerSettings { ConfigFile = configFile, Overrides = overrides };
        return new ConfigurationBuilder().AddBrokerSources(settings).Build()[BrokerConfiguration.HostNameKey];
    }
}
