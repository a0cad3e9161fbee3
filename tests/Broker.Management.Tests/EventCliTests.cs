using System.Text.Json;

namespace Broker.Management.Tests;

public sealed class EventCliTests(ManagementServer server) : IClassFixture<ManagementServer>
{
    private static string NewId(string prefix = "mon") => $"{prefix}-{Guid.NewGuid():N}";

    private Task<CliResult> RunAsAsync(string policy, params string[] args)
        => Cli.RunAsync([.. args, "--server", server.Address.ToString(), "--connection-string", server.ConnectionString(policy)]);

    private Task<CliResult> RunAsync(params string[] args) => RunAsAsync("iothubowner", args);

    [Fact]
    public async Task Monitor_FromStartWithMax_PrintsAzStyleJsonLines()
    {
        var id = NewId();
        await Telemetry.AppendAsync(server.Store, id, "%24.mid=m1&%24.ct=application%2Fjson&%24.ce=utf-8&temp=21&alert", """{"t":21,"s":"x"}""");
        var second = await Telemetry.AppendAsync(server.Store, id, "$.cid=c2", "not json");

        var result = await RunAsync("monitor", "--device", id, "--from", "start", "--max", "2", "--timeout", "30");

        Assert.True(result.ExitCode == 0, result.Error);
        Assert.Equal(2, result.OutputLines.Length);
        using var first = JsonDocument.Parse(result.OutputLines[0]);
        var e = first.RootElement.GetProperty("event");
        Assert.Equal(id, e.GetProperty("origin").GetString());
        Assert.Equal("", e.GetProperty("module").GetString());
        Assert.Equal("", e.GetProperty("interface").GetString());
        Assert.Equal("", e.GetProperty("component").GetString());
        Assert.Equal(21, e.GetProperty("payload").GetProperty("t").GetInt32());
        Assert.Equal("x", e.GetProperty("payload").GetProperty("s").GetString());
        var system = e.GetProperty("properties").GetProperty("system");
        Assert.Equal("m1", system.GetProperty("message_id").GetString());
        Assert.Equal("application/json", system.GetProperty("content_type").GetString());
        Assert.Equal("utf-8", system.GetProperty("content_encoding").GetString());
        var application = e.GetProperty("properties").GetProperty("application");
        Assert.Equal("21", application.GetProperty("temp").GetString());
        Assert.Equal("", application.GetProperty("alert").GetString());
        var annotations = e.GetProperty("annotations");
        Assert.Equal(id, annotations.GetProperty("iothub-connection-device-id").GetString());
        Assert.Equal("Telemetry", annotations.GetProperty("iothub-message-source").GetString());
        Assert.Equal("""{"scope":"device","type":"sas","issuer":"iothub"}""", annotations.GetProperty("iothub-connection-auth-method").GetString());
        Assert.True(annotations.GetProperty("x-opt-enqueued-time").GetInt64() > 0);

        using var next = JsonDocument.Parse(result.OutputLines[1]);
        var e2 = next.RootElement.GetProperty("event");
        Assert.Equal("not json", e2.GetProperty("payload").GetString());
        Assert.Equal("c2", e2.GetProperty("properties").GetProperty("system").GetProperty("correlation_id").GetString());
        Assert.Equal(second.SequenceNumber, e2.GetProperty("annotations").GetProperty("x-opt-sequence-number").GetInt64());
        Assert.Equal(second.Offset.ToString(System.Globalization.CultureInfo.InvariantCulture), e2.GetProperty("annotations").GetProperty("x-opt-offset").GetString());
    }

    [Fact]
    public async Task Monitor_Timeout_EndsQuietlyWithWhatArrived()
    {
        var id = NewId();
        await Telemetry.AppendAsync(server.Store, id, "$.mid=only", "1");

        var result = await RunAsync("monitor", "-d", id, "--from", "start", "--timeout", "1");

        Assert.True(result.ExitCode == 0, result.Error);
        var line = Assert.Single(result.OutputLines);
        using var json = JsonDocument.Parse(line);
        Assert.Equal("only", json.RootElement.GetProperty("event").GetProperty("properties").GetProperty("system").GetProperty("message_id").GetString());
        Assert.Contains("Starting event monitor, filtering on device: " + id, result.Error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Monitor_BadFrom_Fails()
    {
        var result = await RunAsync("monitor", "--from", "yesterday-ish", "--max", "1");
        Assert.Equal(1, result.ExitCode);
        Assert.Equal("error: --from 'yesterday-ish' is not start, end, checkpoint or an RFC 3339 time." + Environment.NewLine, result.Error);
    }

    [Fact]
    public async Task Monitor_WithoutServiceConnect_FailsWithIotHubError()
    {
        var result = await RunAsAsync("registryRead", "monitor", "--max", "1");
        Assert.Equal(1, result.ExitCode);
        Assert.StartsWith("error: IotHubUnauthorizedAccess (401002):", result.Error.Split('\n').Last(l => l.Length > 0), StringComparison.Ordinal);
        Assert.Equal("", result.Output);
    }

    [Fact]
    public async Task ConsumerGroup_CreateListDelete()
    {
        var name = NewId("cg");
        var created = await RunAsync("consumer-group", "create", name);
        Assert.True(created.ExitCode == 0, created.Error);
        Assert.Equal($"Created consumer group {name}.", created.OutputLines.Single());

        var list = await RunAsync("consumer-group", "list");
        Assert.Equal("NAME", list.OutputLines[0]);
        Assert.Equal("$Default", list.OutputLines[1]);
        Assert.Contains(name, list.OutputLines);

        var json = await RunAsync("consumer-group", "list", "--json");
        using var array = JsonDocument.Parse(json.Output);
        Assert.Contains(name, array.RootElement.EnumerateArray().Select(n => n.GetString()));

        var deleted = await RunAsync("consumer-group", "delete", name);
        Assert.True(deleted.ExitCode == 0, deleted.Error);
        Assert.Equal($"Deleted consumer group {name}.", deleted.OutputLines.Single());

        var again = await RunAsync("consumer-group", "delete", "$Default");
        Assert.Equal(1, again.ExitCode);
        Assert.StartsWith("error: ArgumentInvalid (400004):", again.Error, StringComparison.Ordinal);
    }
}
