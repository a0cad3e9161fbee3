using System.Text.Json;
using Broker.Core.CloudToDevice;
using Broker.Core.Registry;
using Microsoft.Extensions.DependencyInjection;

namespace Broker.Management.Tests;

/// <summary>Issue #6: <c>c2d</c>, <c>twin</c> and <c>method</c> commands against a real management server.</summary>
public sealed class HubCliTests(ManagementServer server) : IClassFixture<ManagementServer>
{
    private static string NewId() => $"hub-cli-{Guid.NewGuid():N}";

    private Task<CliResult> RunAsync(params string[] args)
        => Cli.RunAsync([.. args, "--server", server.Address.ToString(), "--connection-string", server.ConnectionString("iothubowner")]);

    private async Task<string> CreateDeviceAsync()
    {
        var id = NewId();
        await server.Registry.CreateDeviceAsync(new Device { DeviceId = id });
        return id;
    }

    private static void AssertSucceeded(CliResult result) => Assert.True(result.ExitCode == 0, $"exit {result.ExitCode}: {result.Error}");

    [Fact]
    public async Task C2dSend_QueuesTheMessageWithItsPropertiesAndPrintsItsId()
    {
        var id = await CreateDeviceAsync();

        var result = await RunAsync("c2d", "send", id, "hello", "--property", "k=v+w", "--message-id", "cli-m1", "--ack", "full", "--ttl", "120");

        AssertSucceeded(result);
        Assert.Equal("cli-m1", result.Output.Trim());
        var queues = Queues();
        Assert.Equal(1, queues.PendingCount(id));
        Assert.True(queues.TryLockNext(id, this, out var delivery));
        Assert.Equal("v+w", delivery.Message.Properties["k"]);
        Assert.Equal(FeedbackMode.Full, delivery.Message.Ack);
        Assert.Equal(TimeSpan.FromSeconds(120), delivery.Message.ExpiryTime - delivery.Message.EnqueuedTime);
    }

    [Fact]
    public async Task C2dSend_UnknownDevice_ExitsWithTheHubError()
    {
        var result = await RunAsync("c2d", "send", "nobody-" + NewId(), "x");

        Assert.Equal(1, result.ExitCode);
        Assert.StartsWith("error: DeviceNotFound (404001):", result.Error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task C2dPurgeThenFeedback_PrintsTheCountAndThePurgedRecord()
    {
        var id = await CreateDeviceAsync();
        AssertSucceeded(await RunAsync("c2d", "send", id, "a", "--message-id", "purge-me", "--ack", "negative"));

        var purge = await RunAsync("c2d", "purge", id);
        AssertSucceeded(purge);
        using (var purged = JsonDocument.Parse(purge.Output))
        {
            Assert.Equal(1, purged.RootElement.GetProperty("totalMessagesPurged").GetInt32());
            Assert.Equal(id, purged.RootElement.GetProperty("deviceId").GetString());
        }

        // The only outcome in this class's hub: one batch holds it (the fixture offers feedback without delay).
        var feedback = await RunAsync("c2d", "feedback", "--count", "1");
        AssertSucceeded(feedback);
        using var records = JsonDocument.Parse(feedback.Output);
        var record = records.RootElement.EnumerateArray().Single(r => r.GetProperty("deviceId").GetString() == id);
        Assert.Equal("Purged", record.GetProperty("statusCode").GetString());
        Assert.Equal("purge-me", record.GetProperty("originalMessageId").GetString());
    }

    [Fact]
    public async Task TwinUpdateThenShow_PrintsTheMergedTwin()
    {
        var id = await CreateDeviceAsync();

        var update = await RunAsync("twin", "update", id, "--desired", """{"interval":5}""", "--tags", """{"site":"north"}""");
        AssertSucceeded(update);
        var show = await RunAsync("twin", "show", id);

        AssertSucceeded(show);
        using var twin = JsonDocument.Parse(show.Output);
        Assert.Equal(5, twin.RootElement.GetProperty("properties").GetProperty("desired").GetProperty("interval").GetInt32());
        Assert.Equal("north", twin.RootElement.GetProperty("tags").GetProperty("site").GetString());
        Assert.Equal(2, twin.RootElement.GetProperty("properties").GetProperty("desired").GetProperty("$version").GetInt64());
    }

    [Fact]
    public async Task TwinUpdate_StaleEtag_ExitsWith412001()
    {
        var id = await CreateDeviceAsync();

        var result = await RunAsync("twin", "update", id, "--tags", """{"a":1}""", "--etag", "AAAAAAAAAAk=");

        Assert.Equal(1, result.ExitCode);
        Assert.StartsWith("error: PreconditionFailed (412001):", result.Error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task MethodInvoke_OfflineDevice_ExitsWith404103()
    {
        var id = await CreateDeviceAsync();

        var result = await RunAsync("method", "invoke", id, "reboot", "--payload", "{}");

        Assert.Equal(1, result.ExitCode);
        Assert.StartsWith("error: DeviceNotOnline (404103):", result.Error, StringComparison.Ordinal);
    }

    private CloudToDeviceService Queues() => server.Services.GetRequiredService<CloudToDeviceService>();
}
