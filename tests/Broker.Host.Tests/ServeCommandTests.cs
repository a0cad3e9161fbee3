using Broker.Host.Cli;
using Broker.Host.Hosting;

namespace Broker.Host.Tests;

public sealed class ServeCommandTests
{
    private static readonly string[] Flags =
    [
        "--config", "--data", "--hostname", "--partitions", "--bind",
        "--mqtt-port", "--mqtts-port", "--amqp-port", "--amqps-port", "--https-port", "--management-port",
    ];

    [Fact]
    public async Task ServeHelp_InvokedInProcess_ListsEveryFlagWithItsDefault()
    {
        using var output = new StringWriter();

        int exitCode = await BrokerCommandLine.InvokeAsync(["serve", "--help"], output);

        Assert.Equal(0, exitCode);
        var help = output.ToString();
        foreach (var flag in Flags)
        {
            Assert.Contains(flag, help, StringComparison.Ordinal);
        }

        Assert.Contains("[default: ./data]", help, StringComparison.Ordinal);
        Assert.Contains("[default: localhost]", help, StringComparison.Ordinal);
        Assert.Contains("[default: 1883]", help, StringComparison.Ordinal);
        Assert.Contains("[default: 8883]", help, StringComparison.Ordinal);
        Assert.Contains("[default: 8081]", help, StringComparison.Ordinal);
        Assert.Contains("0 turns the listener off", help, StringComparison.Ordinal);
    }

    [Fact]
    public void ToSettings_SomeFlagsGiven_OnlyThoseBecomeOverrides()
    {
        var root = BrokerCommandLine.CreateRootCommand();
        var serve = root.Subcommands.OfType<ServeCommand>().Single();

        var settings = serve.ToSettings(root.Parse(["serve", "--hostname", "hub.example", "--mqtt-port", "0", "--partitions", "2", "--config", "broker.json"]));

        Assert.Equal("broker.json", settings.ConfigFile);
        Assert.Equal("hub.example", settings.Overrides[BrokerConfiguration.HostNameKey]);
        Assert.Equal("0", settings.Overrides[BrokerConfiguration.PortKey(BrokerListener.Mqtt)]);
        Assert.Equal("2", settings.Overrides[BrokerConfiguration.PartitionCountKey]);
        // Defaults shown in --help must not mask the environment or the JSON file.
        Assert.False(settings.Overrides.ContainsKey(BrokerConfiguration.PortKey(BrokerListener.Mqtts)));
        Assert.False(settings.Overrides.ContainsKey(BrokerConfiguration.DataDirectoryKey));
        Assert.False(settings.Overrides.ContainsKey(BrokerConfiguration.BindKey));
        Assert.True(settings.UseAmbientSources);
    }

    [Theory]
    [InlineData("--mqtt-port", "70000")]
    [InlineData("--management-port", "-1")]
    [InlineData("--partitions", "0")]
    public async Task Serve_ValueOutOfRange_IsRejectedBeforeStarting(string flag, string value)
    {
        using var output = new StringWriter();
        using var error = new StringWriter();

        int exitCode = await BrokerCommandLine.InvokeAsync(["serve", flag, value], output, error);

        Assert.NotEqual(0, exitCode);
        Assert.Contains(flag, error.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Serve_MissingConfigFile_FailsWithAMessage()
    {
        using var output = new StringWriter();
        using var error = new StringWriter();
        var missing = Path.Combine(Path.GetTempPath(), "broker-tests", Guid.NewGuid().ToString("N"), "missing.json");

        int exitCode = await BrokerCommandLine.InvokeAsync(["serve", "--config", missing], output, error);

        Assert.Equal(1, exitCode);
        Assert.StartsWith("broker: ", error.ToString(), StringComparison.Ordinal);
        Assert.Contains("missing.json", error.ToString(), StringComparison.Ordinal);
    }
}
