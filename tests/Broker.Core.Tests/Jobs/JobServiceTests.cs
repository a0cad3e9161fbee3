using System.Text;
using System.Text.Json;
using Broker.Core.Errors;
using Broker.Core.Hub;
using Broker.Core.Jobs;
using Broker.Core.Methods;
using Broker.Core.Registry;
using Broker.Core.Twins;
using Broker.Storage.Faster;
using Broker.Testing;
using Microsoft.Extensions.Time.Testing;

namespace Broker.Core.Tests.Jobs;

/// <summary>Scheduled twin updates and direct methods over a real store, on a fake clock.</summary>
public sealed class JobServiceTests : IAsyncLifetime
{
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(30);
    private readonly TempDirectory _directory = new();
    private readonly FakeTimeProvider _time = new(TestStores.Start);
    private FasterHubStore _store = null!;
    private IdentityRegistry _identities = null!;
    private TwinService _twins = null!;
    private JobService _jobs = null!;
    private Broker.Core.Query.TwinQueryService _queries = null!;

    public async Task InitializeAsync()
    {
        Open();
        foreach (var (id, site) in new[] { ("d1", "a"), ("d2", "b"), ("d3", "a") })
        {
            await _identities.CreateDeviceAsync(new Device { DeviceId = id });
            await _twins.UpdateTwinAsync(id, null, Encoding.UTF8.GetBytes($$$"""{"tags":{"site":"{{{site}}}"}}"""), null);
        }
    }

    public async Task DisposeAsync()
    {
        _jobs.Dispose();
        await _store.DisposeAsync();
        _directory.Dispose();
    }

    private void Open()
    {
        _store = TestStores.Open(TestStores.TwinSizedOptions(_directory.Path), _time);
        _identities = new IdentityRegistry(_store, _time);
        var connections = new ConnectionRegistry(_identities, _time);
        _twins = new TwinService(_store, _identities, connections, _time, static (_, _) => 0);
        _jobs = new JobService(_store, _identities, _twins, new MethodInvoker(connections, _identities, _time), _time);
        _queries = new Broker.Core.Query.TwinQueryService(_identities, _twins, _jobs);
    }

    private static JobRequest TwinJob(string condition, string patch, DateTimeOffset start) => new()
    {
        Type = "scheduleUpdateTwin",
        QueryCondition = condition,
        StartTime = start,
        UpdateTwin = JsonDocument.Parse(patch).RootElement.Clone(),
    };

    private Task<Job> EndOf(string jobId)
    {
        var ended = new TaskCompletionSource<Job>(TaskCreationOptions.RunContinuationsAsynchronously);
        _jobs.JobEnded += job =>
        {
            if (job.JobId == jobId)
            {
                ended.TrySetResult(job);
            }
        };
        return ended.Task.WaitAsync(Bound);
    }

    private string Desired(string deviceId, string name)
    {
        using var twin = JsonDocument.Parse(_twins.GetTwin(deviceId, null));
        return twin.RootElement.GetProperty("properties").GetProperty("desired").TryGetProperty(name, out var value) ? value.ToString() : "";
    }

    [Fact]
    public async Task TwinUpdate_WaitsForItsStartTime_ThenPatchesTheDevicesTheConditionSelects()
    {
        var ended = EndOf("j1");
        var created = await _jobs.CreateAsync("j1", TwinJob("tags.site = 'a'", """{"properties":{"desired":{"mode":"eco"}}}""", _time.GetUtcNow().AddMinutes(5)));
        Assert.Equal(JobStatus.Scheduled, created.Status);

        _time.Advance(TimeSpan.FromMinutes(5) - TimeSpan.FromTicks(1));
        Assert.Equal(JobStatus.Scheduled, _jobs.Get("j1").Status);
        Assert.Equal("", Desired("d1", "mode"));
        _time.Advance(TimeSpan.FromTicks(1));

        var job = await ended;
        Assert.Equal(JobStatus.Completed, job.Status);
        Assert.Equal(2, job.DeviceJobStatistics.DeviceCount);
        Assert.Equal(2, job.DeviceJobStatistics.SucceededCount);
        Assert.Equal(0, job.DeviceJobStatistics.PendingCount);
        Assert.NotNull(job.EndTime);
        Assert.Equal(["eco", "", "eco"], new[] { "d1", "d2", "d3" }.Select(id => Desired(id, "mode")));
    }

    [Fact]
    public async Task DeviceMethod_OnOfflineDevices_CountsThemFailed_AndTheJobCompletes()
    {
        var ended = EndOf("m1");
        await _jobs.CreateAsync("m1", new JobRequest
        {
            Type = "scheduleDeviceMethod",
            QueryCondition = "deviceId IN ['d1', 'd2']",
            CloudToDeviceMethod = JsonDocument.Parse("""{"methodName":"reboot","payload":{"delay":1},"responseTimeoutInSeconds":5}""").RootElement.Clone(),
        });

        var job = await ended;
        Assert.Equal(JobStatus.Completed, job.Status);
        Assert.Equal(2, job.DeviceJobStatistics.DeviceCount);
        Assert.Equal(2, job.DeviceJobStatistics.FailedCount);
    }

    [Fact]
    public async Task DevicesJobs_ListEachDevicesPart_WithItsOutcome_AndSurviveAReopen()
    {
        var twinJob = EndOf("rows-twin");
        await _jobs.CreateAsync("rows-twin", TwinJob("tags.site = 'a'", """{"tags":{"done":true}}""", _time.GetUtcNow()));
        await twinJob;
        var methodJob = EndOf("rows-method");
        await _jobs.CreateAsync("rows-method", new JobRequest
        {
            Type = "scheduleDeviceMethod",
            QueryCondition = "deviceId = 'd2'",
            CloudToDeviceMethod = JsonDocument.Parse("""{"methodName":"reboot"}""").RootElement.Clone(),
        });
        await methodJob;

        foreach (bool reopened in new[] { false, true })
        {
            if (reopened)
            {
                _jobs.Dispose();
                await _store.DisposeAsync();
                Open();
            }

            using var twinRows = JsonDocument.Parse(_queries.Run("SELECT * FROM devices.jobs WHERE devices.jobs.jobId = 'rows-twin'", null, null).Json);
            Assert.Equal(["d1", "d3"], twinRows.RootElement.EnumerateArray().Select(row => row.GetProperty("deviceId").GetString()));
            Assert.All(twinRows.RootElement.EnumerateArray(), row =>
            {
                Assert.Equal("completed", row.GetProperty("status").GetString());
                Assert.Equal("scheduleUpdateTwin", row.GetProperty("jobType").GetString());
            });

            var page = _queries.Run("SELECT * FROM devices.jobs WHERE jobId = 'rows-method' AND status = 'failed'", null, null);
            Assert.Equal("DeviceJob", page.ItemType);
            using var methodRows = JsonDocument.Parse(page.Json);
            var failed = Assert.Single(methodRows.RootElement.EnumerateArray());
            Assert.Equal("d2", failed.GetProperty("deviceId").GetString());
            Assert.Equal("DeviceNotOnline", failed.GetProperty("error").GetProperty("code").GetString());
        }

        Assert.Equal(IotHubErrorCode.ArgumentInvalid,
            Assert.Throws<IotHubException>(() => _queries.Run("SELECT deviceId FROM devices.jobs", null, null)).Code);
    }

    [Fact]
    public async Task Cancel_BeforeTheStart_EndsTheJob_WhichNeverRuns()
    {
        await _jobs.CreateAsync("c1", TwinJob("true", """{"tags":{"x":1}}""", _time.GetUtcNow().AddHours(1)));
        var cancelled = await _jobs.CancelAsync("c1");
        Assert.Equal(JobStatus.Cancelled, cancelled.Status);
        _time.Advance(TimeSpan.FromHours(2));
        Assert.Equal(JobStatus.Cancelled, _jobs.Get("c1").Status);
        using var twin = JsonDocument.Parse(_twins.GetTwin("d1", null));
        Assert.False(twin.RootElement.GetProperty("tags").TryGetProperty("x", out _));
    }

    [Fact]
    public async Task ScheduledJob_SurvivesAReopen_AndRunsAfterIt()
    {
        await _jobs.CreateAsync("r1", TwinJob("deviceId = 'd2'", """{"properties":{"desired":{"after":"reopen"}}}""", _time.GetUtcNow().AddMinutes(1)));
        _jobs.Dispose();
        await _store.DisposeAsync();
        Open();

        Assert.Equal(JobStatus.Scheduled, _jobs.Get("r1").Status);
        var ended = EndOf("r1");
        _time.Advance(TimeSpan.FromMinutes(1));
        Assert.Equal(JobStatus.Completed, (await ended).Status);
        Assert.Equal("reopen", Desired("d2", "after"));
        Assert.Single(_jobs.List("scheduleUpdateTwin", JobStatus.Completed));
        Assert.Empty(_jobs.List("scheduleDeviceMethod", null));
    }

    [Fact]
    public async Task BadRequests_AnswerIotHubErrors()
    {
        var start = _time.GetUtcNow();
        await ThrowsAsync(IotHubErrorCode.ArgumentInvalid, () => _jobs.CreateAsync("bad-type", new JobRequest { Type = "export", QueryCondition = "true" }));
        await ThrowsAsync(IotHubErrorCode.ArgumentInvalid, () => _jobs.CreateAsync("bad-condition", TwinJob("tags.site = ", "{}", start)));
        await ThrowsAsync(IotHubErrorCode.ArgumentInvalid, () => _jobs.CreateAsync("no-patch", new JobRequest { Type = "scheduleUpdateTwin", QueryCondition = "true" }));
        await ThrowsAsync(IotHubErrorCode.ArgumentInvalid, () => _jobs.CreateAsync("bad-method", new JobRequest
        {
            Type = "scheduleDeviceMethod",
            QueryCondition = "true",
            CloudToDeviceMethod = JsonDocument.Parse("""{"methodName":"a/b"}""").RootElement.Clone(),
        }));
        await _jobs.CreateAsync("twice", TwinJob("true", "{}", start.AddDays(1)));
        await ThrowsAsync(IotHubErrorCode.JobAlreadyExists, () => _jobs.CreateAsync("twice", TwinJob("true", "{}", start.AddDays(1))));
        Assert.Equal(IotHubErrorCode.JobNotFound, Assert.Throws<IotHubException>(() => _jobs.Get("none")).Code);
    }

    private static async Task ThrowsAsync(IotHubErrorCode code, Func<Task> action)
        => Assert.Equal(code, (await Assert.ThrowsAsync<IotHubException>(action)).Code);
}
