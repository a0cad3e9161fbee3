using System.Text.Json;
using System.Text.Json.Serialization;

namespace Broker.Core.Jobs;

/// <summary>IoT Hub's job, in the shape of its <c>JobResponse</c> (what <c>GET /jobs/v2/{id}</c> answers and the hub stores).</summary>
public sealed record Job
{
    [JsonPropertyName("jobId")]
    public required string JobId { get; init; }

    /// <summary><c>scheduleUpdateTwin</c> or <c>scheduleDeviceMethod</c>.</summary>
    [JsonPropertyName("type")]
    public required string Type { get; init; }

    /// <summary>The devices the job runs on: a twin query condition (a WHERE clause without WHERE).</summary>
    [JsonPropertyName("queryCondition")]
    public required string QueryCondition { get; init; }

    [JsonPropertyName("createdTime")]
    public DateTimeOffset CreatedTime { get; init; }

    [JsonPropertyName("startTime")]
    public DateTimeOffset StartTime { get; init; }

    [JsonPropertyName("endTime")]
    public DateTimeOffset? EndTime { get; init; }

    [JsonPropertyName("maxExecutionTimeInSeconds")]
    public long MaxExecutionTimeInSeconds { get; init; }

    /// <summary>For <c>scheduleDeviceMethod</c>: <c>{methodName, payload, responseTimeoutInSeconds, connectTimeoutInSeconds}</c>.</summary>
    [JsonPropertyName("cloudToDeviceMethod")]
    public JsonElement? CloudToDeviceMethod { get; init; }

    /// <summary>For <c>scheduleUpdateTwin</c>: the patch (<c>tags</c>, <c>properties.desired</c>).</summary>
    [JsonPropertyName("updateTwin")]
    public JsonElement? UpdateTwin { get; init; }

    /// <summary><c>scheduled</c>, <c>running</c>, <c>completed</c>, <c>failed</c> or <c>cancelled</c>.</summary>
    [JsonPropertyName("status")]
    public required string Status { get; init; }

    [JsonPropertyName("failureReason")]
    public string? FailureReason { get; init; }

    [JsonPropertyName("statusMessage")]
    public string? StatusMessage { get; init; }

    [JsonPropertyName("deviceJobStatistics")]
    public JobStatistics DeviceJobStatistics { get; init; } = new();
}

/// <summary>How a job's devices fared.</summary>
public sealed record JobStatistics
{
    [JsonPropertyName("deviceCount")]
    public int DeviceCount { get; init; }

    [JsonPropertyName("failedCount")]
    public int FailedCount { get; init; }

    [JsonPropertyName("succeededCount")]
    public int SucceededCount { get; init; }

    [JsonPropertyName("runningCount")]
    public int RunningCount { get; init; }

    [JsonPropertyName("pendingCount")]
    public int PendingCount { get; init; }
}

/// <summary>One device's part in a job, as <c>SELECT * FROM devices.jobs</c> answers it.</summary>
public sealed record DeviceJob
{
    [JsonPropertyName("deviceId")]
    public required string DeviceId { get; init; }

    [JsonPropertyName("jobId")]
    public required string JobId { get; init; }

    [JsonPropertyName("jobType")]
    public required string JobType { get; init; }

    /// <summary><c>pending</c>, <c>completed</c> or <c>failed</c>.</summary>
    [JsonPropertyName("status")]
    public required string Status { get; init; }

    [JsonPropertyName("startTimeUtc")]
    public DateTimeOffset StartTimeUtc { get; init; }

    [JsonPropertyName("endTimeUtc")]
    public DateTimeOffset? EndTimeUtc { get; init; }

    [JsonPropertyName("createdDateTimeUtc")]
    public DateTimeOffset CreatedDateTimeUtc { get; init; }

    [JsonPropertyName("lastUpdatedDateTimeUtc")]
    public DateTimeOffset LastUpdatedDateTimeUtc { get; init; }

    /// <summary>For a method job: <c>{"deviceMethodResponse":{"status":…,"payload":…}}</c>.</summary>
    [JsonPropertyName("outcome")]
    public JsonElement? Outcome { get; init; }

    /// <summary>Why the device failed: <c>{"code":"DeviceNotOnline","description":"…"}</c>.</summary>
    [JsonPropertyName("error")]
    public DeviceJobError? Error { get; init; }
}

/// <summary>A device's failure in a job.</summary>
public sealed record DeviceJobError(
    [property: JsonPropertyName("code")] string Code,
    [property: JsonPropertyName("description")] string Description);

/// <summary>The job statuses the hub reports.</summary>
public static class JobStatus
{
    public const string Scheduled = "scheduled";
    public const string Running = "running";
    public const string Completed = "completed";
    public const string Failed = "failed";
    public const string Cancelled = "cancelled";
}

/// <summary>Source-generated JSON of jobs.</summary>
[JsonSerializable(typeof(Job))]
[JsonSerializable(typeof(List<Job>))]
[JsonSerializable(typeof(JobRequest))]
[JsonSerializable(typeof(DeviceJob))]
[JsonSourceGenerationOptions(DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull)]
public sealed partial class JobJsonContext : JsonSerializerContext
{
}

/// <summary>The body of <c>PUT /jobs/v2/{jobId}</c>, as the service SDKs send it.</summary>
public sealed record JobRequest
{
    [JsonPropertyName("jobId")]
    public string? JobId { get; init; }

    [JsonPropertyName("type")]
    public string? Type { get; init; }

    [JsonPropertyName("queryCondition")]
    public string? QueryCondition { get; init; }

    [JsonPropertyName("startTime")]
    public DateTimeOffset? StartTime { get; init; }

    [JsonPropertyName("maxExecutionTimeInSeconds")]
    public long? MaxExecutionTimeInSeconds { get; init; }

    [JsonPropertyName("cloudToDeviceMethod")]
    public JsonElement? CloudToDeviceMethod { get; init; }

    [JsonPropertyName("updateTwin")]
    public JsonElement? UpdateTwin { get; init; }
}
