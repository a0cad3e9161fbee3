namespace Broker.Core.CloudToDevice;

/// <summary>
/// The hub's cloud-to-device settings (IoT Hub's <c>cloudToDevice</c> and <c>feedback</c> properties). The lock
/// duration and queue depth are fixed by IoT Hub; the rest can be set within IoT Hub's ranges.
/// </summary>
public sealed class CloudToDeviceOptions
{
    /// <summary>Section of the broker's configuration.</summary>
    public const string SectionName = "CloudToDevice";

    /// <summary>IoT Hub's pending-message limit per device (403004 past it).</summary>
    public const int MaxQueueDepth = 50;

    /// <summary>IoT Hub's largest cloud-to-device message body.</summary>
    public const int MaxMessageBytes = 64 * 1024;

    /// <summary>How long a delivered message stays invisible before it returns to the queue (fixed at one minute).</summary>
    public static readonly TimeSpan LockDuration = TimeSpan.FromMinutes(1);

    /// <summary>The longest time to live a message may have.</summary>
    public static readonly TimeSpan MaxTimeToLive = TimeSpan.FromDays(2);

    /// <summary>Time to live of a message that does not set its own (<c>defaultTtlAsIso8601</c>, 1 minute to 2 days, default 1 hour).</summary>
    public TimeSpan DefaultTimeToLive { get; set; } = TimeSpan.FromHours(1);

    /// <summary>Abandons after which a message is dead-lettered (<c>maxDeliveryCount</c>, 1–100, default 10).</summary>
    public int MaxDeliveryCount { get; set; } = 10;

    /// <summary>Feedback records per feedback message (IoT Hub flushes at 64).</summary>
    public int FeedbackBatchSize { get; set; } = 64;

    /// <summary>How long a feedback record waits for its batch to fill before the batch is offered anyway (IoT Hub: 15 s).</summary>
    public TimeSpan FeedbackBatchDelay { get; set; } = TimeSpan.FromSeconds(15);

    /// <summary>How long a received feedback batch stays locked before it is offered again (<c>feedback.lockDurationAsIso8601</c>, 5–300 s, default 60 s).</summary>
    public TimeSpan FeedbackLockDuration { get; set; } = TimeSpan.FromSeconds(60);

    /// <summary>
    /// How long a feedback record waits to be received and completed before it is dropped
    /// (<c>feedback.ttlAsIso8601</c>, 1 minute to 2 days, default 1 hour): a hub whose feedback nobody reads
    /// does not keep it forever.
    /// </summary>
    public TimeSpan FeedbackTimeToLive { get; set; } = TimeSpan.FromHours(1);

    /// <summary>
    /// How many times a feedback batch is received without being completed before its records are dropped
    /// (<c>feedback.maxDeliveryCount</c>, 1–100, default 10).
    /// </summary>
    public int FeedbackMaxDeliveryCount { get; set; } = 10;

    /// <summary>Throws when a setting is outside IoT Hub's range.</summary>
    public void Validate()
    {
        if (DefaultTimeToLive < TimeSpan.FromMinutes(1) || DefaultTimeToLive > MaxTimeToLive)
        {
            throw new InvalidDataException("CloudToDevice:DefaultTimeToLive must be between 00:01:00 and 2.00:00:00.");
        }

        if (MaxDeliveryCount is < 1 or > 100)
        {
            throw new InvalidDataException("CloudToDevice:MaxDeliveryCount must be between 1 and 100.");
        }

        if (FeedbackBatchSize is < 1 or > 64)
        {
            throw new InvalidDataException("CloudToDevice:FeedbackBatchSize must be between 1 and 64.");
        }

        if (FeedbackBatchDelay < TimeSpan.Zero || FeedbackBatchDelay > TimeSpan.FromMinutes(1))
        {
            throw new InvalidDataException("CloudToDevice:FeedbackBatchDelay must be between 00:00:00 and 00:01:00.");
        }

        if (FeedbackLockDuration < TimeSpan.FromSeconds(5) || FeedbackLockDuration > TimeSpan.FromSeconds(300))
        {
            throw new InvalidDataException("CloudToDevice:FeedbackLockDuration must be between 00:00:05 and 00:05:00.");
        }

        if (FeedbackTimeToLive < TimeSpan.FromMinutes(1) || FeedbackTimeToLive > MaxTimeToLive)
        {
            throw new InvalidDataException("CloudToDevice:FeedbackTimeToLive must be between 00:01:00 and 2.00:00:00.");
        }

        if (FeedbackMaxDeliveryCount is < 1 or > 100)
        {
            throw new InvalidDataException("CloudToDevice:FeedbackMaxDeliveryCount must be between 1 and 100.");
        }
    }
}
