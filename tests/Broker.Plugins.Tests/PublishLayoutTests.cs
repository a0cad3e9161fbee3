using System.Text.RegularExpressions;
using Broker.Plugins.Tests.Support;
using Xunit.Abstractions;

namespace Broker.Plugins.Tests;

/// <summary>
/// <c>dotnet publish</c> of the host puts the built-in plug-ins in <c>plugins/</c> beside the <c>broker</c> executable;
/// the published broker lists them and refuses to serve without them.
/// </summary>
[Collection(PluginsCollection.Name)]
public sealed class PublishLayoutTests(PluginBuildFixture fixture, ITestOutputHelper output)
{
    private static readonly TimeSpan PublishTimeout = TimeSpan.FromMinutes(2);
    private static readonly TimeSpan BrokerTimeout = TimeSpan.FromMinutes(1);

    [Fact]
    public async Task Publish_Host_LaysOutBuiltInPluginsThatTheBrokerListsAndRequires()
    {
        string repository = PluginBuildFixture.Metadata("RepositoryRoot");
        string publish = Path.Combine(fixture.WorkDirectory, "publish-" + Guid.NewGuid().ToString("N"));
        // No build: this test run built the host (the test project references it); publishing only lays it out.
        await DotNetCli.RunAsync(repository, PublishTimeout, "publish", Path.Combine(repository, "src", "Broker.Host", "Broker.Host.csproj"),
            "--no-build", "-c", PluginBuildFixture.Metadata("Configuration"), "-o", publish, "-nologo", "-v:quiet");

        string broker = Path.Combine(publish, OperatingSystem.IsWindows() ? "broker.exe" : "broker");
        Assert.True(File.Exists(broker));
        foreach (string name in new[] { "DeviceAuth", "ManagementApi" })
        {
            string assembly = $"Broker.Plugins.{name}";
            Assert.Equal(
                new[] { $"{assembly}.deps.json", $"{assembly}.dll", $"{assembly}.pdb", "plugin.json" },
                Directory.GetFiles(Path.Combine(publish, "plugins", name)).Select(Path.GetFileName).Order(StringComparer.Ordinal));
            // Only the loader loads them, from their folder.
            Assert.False(File.Exists(Path.Combine(publish, assembly + ".dll")));
        }

        var (exitCode, list, _) = await DotNetCli.RunProcessAsync(broker, publish, BrokerTimeout, new Dictionary<string, string>(), "plugins", "list");
        output.WriteLine(list);
        Assert.Equal(0, exitCode);
        foreach (string name in new[] { "DeviceAuth", "ManagementApi" })
        {
            // NAME VERSION BUILT-IN COLLECTIBLE ENTRY TYPE (FOLDER)
            Assert.Matches(new Regex($@"(?m)^{name}\s+1\.0\.0\S*\s+yes\s+(yes|no)\s+Broker\.Plugins\.{name}\.{name}Plugin \({Regex.Escape(Path.Combine(publish, "plugins", name))}\)$"), list);
        }

        Directory.Delete(Path.Combine(publish, "plugins", "DeviceAuth"), recursive: true);
        string data = Path.Combine(fixture.WorkDirectory, "data-" + Guid.NewGuid().ToString("N"));
        var (serveExit, serveOutput, _) = await DotNetCli.RunProcessAsync(broker, publish, BrokerTimeout,
            new Dictionary<string, string> { ["BROKER_Listeners__MqttPort"] = "-1" }, // any free port: nothing may be in the way of the plug-in check
            "serve", "--data", data, "--bind", "127.0.0.1", "--mqtts-port", "0", "--amqp-port", "0", "--amqps-port", "0", "--https-port", "0", "--management-port", "0");
        output.WriteLine(serveOutput);
        Assert.Equal(1, serveExit);
        Assert.Contains("Plug-in 'DeviceAuth'", serveOutput, StringComparison.Ordinal);
        Assert.Contains("the built-in plug-in DeviceAuth is missing", serveOutput, StringComparison.Ordinal);
    }
}
