using System.Net;
using Broker.Host.Cli;
using Broker.Host.Hosting;
using Broker.Host.Tests.Support;
using MQTTnet;

namespace Broker.Host.Tests;

public sealed class ManagementTests(BrokerHostFixture fixture) : IClassFixture<BrokerHostFixture>
{
    private readonly TestBroker _broker = fixture.Broker;

    [Fact]
    public void ManagementListener_Started_IsOnLoopbackWithPrivateLocalCredentials()
    {
        var endPoint = _broker.Server.Endpoints.GetEndPoint(BrokerListener.Management);

        Assert.NotNull(endPoint);
        Assert.Equal(IPAddress.Loopback, endPoint.Address);
        var credentials = Path.Combine(_broker.DataDirectory, "iothubowner.connectionstring");
        Assert.True(File.Exists(credentials));
        if (!OperatingSystem.IsWindows())
        {
            Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(credentials));
        }
    }

    [Fact]
    public async Task DeviceList_ThroughTheCli_ShowsADeviceCreatedInTheHub()
    {
        await _broker.CreateDeviceAsync("listed-by-cli");

        var (exitCode, output, error) = await RunCliAsync("device", "list");

        Assert.True(exitCode == 0, error);
        Assert.Contains("listed-by-cli", output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task DeviceCreatedThroughTheCli_ConnectsOverMqttWithItsConnectionString()
    {
        var (created, _, createError) = await RunCliAsync("device", "create", "created-by-cli");
        Assert.True(created == 0, createError);
        var (printed, connectionString, printError) = await RunCliAsync("device", "connection-string", "created-by-cli");
        Assert.True(printed == 0, printError);

        var key = connectionString.Trim().Split(';').Single(part => part.StartsWith("SharedAccessKey=", StringComparison.Ordinal))["SharedAccessKey=".Length..];
        using var client = new MqttClientFactory().CreateMqttClient();
        var result = await client.ConnectAsync(DeviceMqtt.Options(_broker, "created-by-cli", _broker.CreateSasToken("created-by-cli", key), tls: true));

        Assert.Equal(MqttClientConnectResultCode.Success, result.ResultCode);
        await client.DisconnectAsync();
    }

    [Fact]
    public async Task RootHelp_InvokedInProcess_ListsServeAndTheManagementCommands()
    {
        using var output = new StringWriter();

        int exitCode = await BrokerCommandLine.InvokeAsync(["--help"], output);

        Assert.Equal(0, exitCode);
        Assert.Contains("serve", output.ToString(), StringComparison.Ordinal);
        Assert.Contains("device", output.ToString(), StringComparison.Ordinal);
        Assert.Contains("policy", output.ToString(), StringComparison.Ordinal);
    }

    private async Task<(int ExitCode, string Output, string Error)> RunCliAsync(params string[] command)
    {
        using var output = new StringWriter();
        using var error = new StringWriter();
        string[] args = [.. command, "--server", $"http://127.0.0.1:{_broker.ManagementPort}", "--data", _broker.DataDirectory];
        int exitCode = await BrokerCommandLine.InvokeAsync(args, output, error);
        return (exitCode, output.ToString(), error.ToString());
    }
}
