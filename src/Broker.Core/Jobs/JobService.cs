using System.Text;
using System.Text.Json;
using Broker.Core.Errors;
using Broker.Core.Methods;
using Broker.Core.Query;
using Broker.Core.Registry;
using Broker.Core.Storage;
using Broker.Core.Twins;

namespace Broker.Core.Jobs;

/// <summary>
/// IoT Hub's jobs: a twin update or a direct method, scheduled for a start time, run on every device twin its query
/// condition selects. Jobs are stored in partition 0 (a created or cancelled job is durable before it is
/// answered), run one device after another, and end <c>completed</c>, <c>failed</c> (its maximum execution time ran
/// out, or the broker stopped while it ran) or <c>cancelled</c>. Per-device results are counted in
/// <see cref="Job.DeviceJobStatistics"/>.
/// </summary>
public sealed class JobService : IDisposable
{
    private const string KeyPrefix = "jobs/";
    private const string DeviceKeyPrefix = "jobdevices/";
    private const string UpdateTwin = "scheduleUpdateTwin";
    private const string DeviceMethod = "scheduleDeviceMethod";

    private readonly IStateStore _state;
    private readonly IdentityRegistry _registry;
    private readonly TwinService _twins;
    private readonly MethodInvoker _methods;
    private readonly TimeProvider _time;
    private readonly Lock _lock = new();
    private readonly Dictionary<string, Job> _jobs = new(StringComparer.Ordinal);
    private readonly Dictionary<string, ITimer> _timers = new(StringComparer.Ordinal);
    private readonly SortedDictionary<(string JobId, string DeviceId), DeviceJob> _deviceJobs = [];
    private readonly HashSet<string> _cancelRequested = new(StringComparer.Ordinal);
    private readonly CancellationTokenSource _stopping = new();
    private readonly CancellationToken _stopToken;

    /// <summary>Opens the jobs over partition 0 of <paramref name="store"/>: scheduled ones are scheduled again, ones the last run left running fail.</summary>
    public JobService(IHubStore store, IdentityRegistry registry, TwinService twins, MethodInvoker methods, TimeProvider time)
    {
        ArgumentNullException.ThrowIfNull(store);
        _state = store.GetPartition(0).State;
        _registry = registry;
        _twins = twins;
        _methods = methods;
        _time = time;
        _stopToken = _stopping.Token; // usable after Dispose, unlike the source's Token property
        var loader = new Loader();
        _state.Scan(StateRecordKind.Hub, Encoding.ASCII.GetBytes(KeyPrefix), loader);
        _state.Scan(StateRecordKind.Hub, Encoding.ASCII.GetBytes(DeviceKeyPrefix), loader);
        foreach (var row in loader.DeviceJobs)
        {
            _deviceJobs[(row.JobId, row.DeviceId)] = row;
        }

        foreach (var job in loader.Jobs)
        {
            var loaded = job.Status == JobStatus.Running
                ? job with { Status = JobStatus.Failed, EndTime = _time.GetUtcNow(), FailureReason = "The broker stopped while the job ran." }
                : job;
            _jobs[job.JobId] = loaded;
            if (loaded != job)
            {
                Save(loaded);
            }
            else if (job.Status == JobStatus.Scheduled)
            {
                Schedule(job);
            }
        }
    }

    /// <summary>Raised when a job ends (completed, failed or cancelled).</summary>
    public event Action<Job>? JobEnded;

    /// <summary>Creates and schedules a job; durable before it returns. 400004 for a bad request, 409104 if the id exists.</summary>
    public async Task<Job> CreateAsync(string jobId, JobRequest request, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(request);
        var job = Validate(jobId, request);
        long address;
        lock (_lock)
        {
            if (_jobs.ContainsKey(jobId))
            {
                throw new IotHubException(IotHubErrorCode.JobAlreadyExists, $"A job with id {jobId} already exists.");
            }

            _jobs[jobId] = job;
            address = Save(job);
        }

        await _state.WaitDurableAsync(address, cancellationToken).ConfigureAwait(false);
        Schedule(job);
        return job;
    }

    /// <summary>The job; 404002 JobNotFound if there is none.</summary>
    public Job Get(string jobId)
    {
        lock (_lock)
        {
            return _jobs.TryGetValue(jobId, out var job) ? job : throw new IotHubException(IotHubErrorCode.JobNotFound, $"There is no job {jobId}.");
        }
    }

    /// <summary>The jobs, oldest first, optionally of one type and status.</summary>
    public IReadOnlyList<Job> List(string? type, string? status)
    {
        lock (_lock)
        {
            return _jobs.Values
                .Where(job => (string.IsNullOrEmpty(type) || job.Type == type) && (string.IsNullOrEmpty(status) || job.Status == status))
                .OrderBy(static job => job.CreatedTime).ThenBy(static job => job.JobId, StringComparer.Ordinal)
                .ToList();
        }
    }

    /// <summary>Every device's part in every job (<c>devices.jobs</c>), by job then device, as JSON.</summary>
    public IReadOnlyList<byte[]> DeviceJobRows()
    {
        lock (_lock)
        {
            return _deviceJobs.Values.Select(static row => JsonSerializer.SerializeToUtf8Bytes(row, JobJsonContext.Default.DeviceJob)).ToList();
        }
    }

    /// <summary>Cancels a job that has not ended (a running one stops before its next device); answers the job.</summary>
    public async Task<Job> CancelAsync(string jobId, CancellationToken cancellationToken = default)
    {
        Job job;
        long address = 0;
        lock (_lock)
        {
            job = Get(jobId);
            if (job.Status == JobStatus.Scheduled)
            {
                if (_timers.Remove(jobId, out var timer))
                {
                    timer.Dispose();
                }

                job = job with { Status = JobStatus.Cancelled, EndTime = _time.GetUtcNow() };
                _jobs[jobId] = job;
                address = Save(job);
            }
            else if (job.Status == JobStatus.Running)
            {
                _cancelRequested.Add(jobId);
            }
        }

        if (address != 0)
        {
            await _state.WaitDurableAsync(address, cancellationToken).ConfigureAwait(false);
            JobEnded?.Invoke(job);
        }

        return job;
    }

    public void Dispose()
    {
        _stopping.Cancel();
        lock (_lock)
        {
            foreach (var timer in _timers.Values)
            {
                timer.Dispose();
            }

            _timers.Clear();
        }

        _stopping.Dispose();
    }

    private Job Validate(string jobId, JobRequest request)
    {
        if (string.IsNullOrEmpty(jobId) || jobId.Length > 128 || !IdentityRules.IsValidDeviceId(jobId))
        {
            throw IotHubErrors.ArgumentInvalid("The job id must be 1 to 128 letters, digits or - : . + % _ # * ? ! ( ) , = @ $ '.");
        }

        if (request.JobId is { Length: > 0 } bodyId && bodyId != jobId)
        {
            throw IotHubErrors.ArgumentInvalid("The job id in the body does not match the one in the path.");
        }

        if (request.Type is not (UpdateTwin or DeviceMethod))
        {
            throw IotHubErrors.ArgumentInvalid($"The job type must be {UpdateTwin} or {DeviceMethod}.");
        }

        _ = QueryParser.ParseCondition(request.QueryCondition); // 400004 naming what is wrong
        if (request.Type == UpdateTwin && request.UpdateTwin is not { ValueKind: JsonValueKind.Object })
        {
            throw IotHubErrors.ArgumentInvalid("A scheduleUpdateTwin job needs updateTwin, the patch.");
        }

        if (request.Type == DeviceMethod
            && (request.CloudToDeviceMethod is not { ValueKind: JsonValueKind.Object } method
                || !method.TryGetProperty("methodName", out var name) || name.ValueKind != JsonValueKind.String
                || !MethodInvoker.IsValidMethodName(name.GetString())))
        {
            throw IotHubErrors.ArgumentInvalid("A scheduleDeviceMethod job needs cloudToDeviceMethod with a valid methodName.");
        }

        long maxSeconds = request.MaxExecutionTimeInSeconds ?? 3600;
        if (maxSeconds <= 0)
        {
            throw IotHubErrors.ArgumentInvalid("maxExecutionTimeInSeconds must be positive.");
        }

        var now = _time.GetUtcNow();
        return new Job
        {
            JobId = jobId,
            Type = request.Type,
            QueryCondition = request.QueryCondition!,
            CreatedTime = now,
            StartTime = request.StartTime ?? now,
            MaxExecutionTimeInSeconds = maxSeconds,
            CloudToDeviceMethod = request.Type == DeviceMethod ? request.CloudToDeviceMethod : null,
            UpdateTwin = request.Type == UpdateTwin ? request.UpdateTwin : null,
            Status = JobStatus.Scheduled,
        };
    }

    private void Schedule(Job job)
    {
        var due = job.StartTime - _time.GetUtcNow();
        lock (_lock)
        {
            if (_stopToken.IsCancellationRequested)
            {
                return;
            }

            _timers[job.JobId] = _time.CreateTimer(static state =>
            {
                var (service, id) = ((JobService, string))state!;
                _ = Task.Run(() => service.RunGuardedAsync(id));
            }, (this, job.JobId), due < TimeSpan.Zero ? TimeSpan.Zero : due, Timeout.InfiniteTimeSpan);
        }
    }

    private async Task RunGuardedAsync(string jobId)
    {
        try
        {
            await RunAsync(jobId).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is OperationCanceledException or ObjectDisposedException or StorageException && _stopToken.IsCancellationRequested)
        {
            // Stopping: the job stays running in the store, and the next start ends it failed.
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            Update(Get(jobId) with { Status = JobStatus.Failed, EndTime = _time.GetUtcNow(), FailureReason = "The job failed on the hub: " + ex.Message });
            JobEnded?.Invoke(Get(jobId));
        }
    }

    private async Task RunAsync(string jobId)
    {
        Job job;
        lock (_lock)
        {
            if (_timers.Remove(jobId, out var timer))
            {
                timer.Dispose();
            }

            job = _jobs[jobId];
            if (job.Status != JobStatus.Scheduled)
            {
                return;
            }

            job = job with { Status = JobStatus.Running };
            Update(job);
        }

        var condition = QueryParser.ParseCondition(job.QueryCondition);
        var devices = _registry.ListAllDevices()
            .Where(device =>
            {
                using var twin = JsonDocument.Parse(_twins.GetTwin(device.DeviceId, null));
                return condition.Evaluate(twin.RootElement).IsTrue;
            })
            .Select(static device => device.DeviceId)
            .ToList();
        var deadline = _time.GetUtcNow() + TimeSpan.FromSeconds(job.MaxExecutionTimeInSeconds);
        int succeeded = 0;
        int failed = 0;
        string status = JobStatus.Completed;
        string? reason = null;
        job = Update(job with { DeviceJobStatistics = new JobStatistics { DeviceCount = devices.Count, PendingCount = devices.Count } });
        var started = _time.GetUtcNow();
        foreach (string deviceId in devices)
        {
            SaveDeviceJob(new DeviceJob
            {
                DeviceId = deviceId, JobId = jobId, JobType = job.Type, Status = "pending",
                StartTimeUtc = started, CreatedDateTimeUtc = job.CreatedTime, LastUpdatedDateTimeUtc = started,
            });
        }

        for (int i = 0; i < devices.Count; i++)
        {
            if (_stopToken.IsCancellationRequested)
            {
                return; // the next start finds it running and fails it
            }

            lock (_lock)
            {
                if (_cancelRequested.Remove(jobId))
                {
                    status = JobStatus.Cancelled;
                    break;
                }
            }

            if (_time.GetUtcNow() >= deadline)
            {
                status = JobStatus.Failed;
                reason = $"The job ran out of its {job.MaxExecutionTimeInSeconds} s before reaching {devices.Count - i} device(s).";
                failed += devices.Count - i;
                break;
            }

            var (outcome, error) = await RunOnDeviceAsync(job, devices[i]).ConfigureAwait(false);
            if (error is null)
            {
                succeeded++;
            }
            else
            {
                failed++;
            }

            var now = _time.GetUtcNow();
            SaveDeviceJob(new DeviceJob
            {
                DeviceId = devices[i], JobId = jobId, JobType = job.Type, Status = error is null ? "completed" : "failed",
                StartTimeUtc = started, EndTimeUtc = now, CreatedDateTimeUtc = job.CreatedTime, LastUpdatedDateTimeUtc = now,
                Outcome = outcome, Error = error,
            });

            job = Update(job with
            {
                DeviceJobStatistics = new JobStatistics
                {
                    DeviceCount = devices.Count,
                    SucceededCount = succeeded,
                    FailedCount = failed,
                    PendingCount = devices.Count - succeeded - failed,
                },
            });
        }

        job = Update(job with
        {
            Status = status,
            FailureReason = reason,
            EndTime = _time.GetUtcNow(),
            DeviceJobStatistics = job.DeviceJobStatistics with { PendingCount = devices.Count - succeeded - failed, RunningCount = 0 },
        });
        JobEnded?.Invoke(job);
    }

    private async Task<(JsonElement? Outcome, DeviceJobError? Error)> RunOnDeviceAsync(Job job, string deviceId)
    {
        try
        {
            if (job.Type == UpdateTwin)
            {
                await _twins.UpdateTwinAsync(deviceId, null, Encoding.UTF8.GetBytes(job.UpdateTwin!.Value.GetRawText()), "*", _stopToken).ConfigureAwait(false);
                return (null, null);
            }

            var method = job.CloudToDeviceMethod!.Value;
            var result = await _methods.InvokeAsync(new MethodRequest
            {
                DeviceId = deviceId,
                MethodName = method.GetProperty("methodName").GetString()!,
                Payload = method.TryGetProperty("payload", out var payload) ? Encoding.UTF8.GetBytes(payload.GetRawText()) : "null"u8.ToArray(),
                ResponseTimeout = TimeSpan.FromSeconds(Seconds(method, "responseTimeoutInSeconds", 30)),
                ConnectTimeout = TimeSpan.FromSeconds(Seconds(method, "connectTimeoutInSeconds", 0)),
            }, _stopToken).ConfigureAwait(false);
            return (MethodOutcome(result), null);
        }
        catch (IotHubException ex)
        {
            return (null, new DeviceJobError(ex.Code.ToString(), ex.Message)); // offline, timed out, refused: the job goes on
        }
    }

    // {"deviceMethodResponse":{"status":…,"payload":…}}; a payload that is not JSON is kept as a string.
    private static JsonElement MethodOutcome(MethodResult result)
    {
        var buffer = new System.Buffers.ArrayBufferWriter<byte>();
        using (var writer = new Utf8JsonWriter(buffer))
        {
            writer.WriteStartObject();
            writer.WriteStartObject("deviceMethodResponse");
            writer.WriteNumber("status", result.Status);
            writer.WritePropertyName("payload");
            if (result.Payload is not { Length: > 0 } payload)
            {
                writer.WriteNullValue();
            }
            else if (JsonText.IsSingleValue(payload))
            {
                writer.WriteRawValue(payload, skipInputValidation: true);
            }
            else
            {
                writer.WriteStringValue(Encoding.UTF8.GetString(payload));
            }

            writer.WriteEndObject();
            writer.WriteEndObject();
        }

        using var document = JsonDocument.Parse(buffer.WrittenMemory);
        return document.RootElement.Clone();
    }

    private void SaveDeviceJob(DeviceJob row)
    {
        lock (_lock)
        {
            _deviceJobs[(row.JobId, row.DeviceId)] = row;
            _state.Upsert(StateRecordKind.Hub, Encoding.ASCII.GetBytes($"{DeviceKeyPrefix}{row.JobId}/{row.DeviceId}"),
                JsonSerializer.SerializeToUtf8Bytes(row, JobJsonContext.Default.DeviceJob));
        }
    }

    private static int Seconds(JsonElement method, string name, int fallback)
        => method.TryGetProperty(name, out var value) && value.TryGetInt32(out int seconds) ? seconds : fallback;

    private Job Update(Job job)
    {
        lock (_lock)
        {
            _jobs[job.JobId] = job;
            Save(job);
        }

        return job;
    }

    private long Save(Job job)
        => _state.Upsert(StateRecordKind.Hub, Encoding.ASCII.GetBytes(KeyPrefix + job.JobId), JsonSerializer.SerializeToUtf8Bytes(job, JobJsonContext.Default.Job));

    private sealed class Loader : IStateVisitor
    {
        public List<Job> Jobs { get; } = [];

        public List<DeviceJob> DeviceJobs { get; } = [];

        public bool Visit(ReadOnlySpan<byte> key, ReadOnlySpan<byte> value)
        {
            if (key.StartsWith(Encoding.ASCII.GetBytes(DeviceKeyPrefix)))
            {
                if (JsonSerializer.Deserialize(value, JobJsonContext.Default.DeviceJob) is { } row)
                {
                    DeviceJobs.Add(row);
                }
            }
            else if (JsonSerializer.Deserialize(value, JobJsonContext.Default.Job) is { } job)
            {
                Jobs.Add(job);
            }

            return true;
        }
    }
}
