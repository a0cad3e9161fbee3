namespace Broker.Core.CloudToDevice;

/// <summary>The <c>iothub-ack</c> a sender asks for: which outcomes produce a feedback record.</summary>
public enum FeedbackMode
{
    /// <summary>No feedback (the default).</summary>
    None,

    /// <summary>Feedback when the device completes the message.</summary>
    Positive,

    /// <summary>Feedback when the message is dead-lettered (expired, delivery count exceeded, rejected, purged).</summary>
    Negative,

    /// <summary>Both.</summary>
    Full,
}
