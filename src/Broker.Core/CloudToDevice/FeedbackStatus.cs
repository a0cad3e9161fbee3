namespace Broker.Core.CloudToDevice;

/// <summary>The outcome a feedback record reports (<c>statusCode</c>).</summary>
public enum FeedbackStatus
{
    /// <summary>The device completed the message.</summary>
    Success,

    /// <summary>The message's time to live ran out.</summary>
    Expired,

    /// <summary>The message was abandoned more often than the hub's max delivery count.</summary>
    DeliveryCountExceeded,

    /// <summary>The device rejected the message.</summary>
    Rejected,

    /// <summary>The queue was purged.</summary>
    Purged,
}
