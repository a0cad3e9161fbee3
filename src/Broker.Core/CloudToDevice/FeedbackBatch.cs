namespace Broker.Core.CloudToDevice;

/// <summary>
/// One feedback message: up to 64 records, locked for the receiver until it completes or abandons them.
/// </summary>
/// <param name="LockToken">Completes or abandons the batch.</param>
/// <param name="EnqueuedTime">When the batch was formed.</param>
/// <param name="Records">The records, oldest first.</param>
/// <param name="Body">The records as IoT Hub's feedback JSON array (content type <see cref="FeedbackBatch.ContentType"/>).</param>
public sealed record FeedbackBatch(Guid LockToken, DateTimeOffset EnqueuedTime, IReadOnlyList<FeedbackRecord> Records, byte[] Body)
{
    /// <summary>The content type of a feedback message.</summary>
    public const string ContentType = "application/vnd.microsoft.iothub.feedback.json";
}
