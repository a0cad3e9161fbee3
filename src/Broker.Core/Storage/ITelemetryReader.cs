namespace Broker.Core.Storage;

/// <summary>A forward cursor over a partition's events log; it sees only durable events.</summary>
public interface ITelemetryReader : IDisposable
{
    /// <summary>The offset the next read starts from.</summary>
    long Position { get; }

    /// <summary>Hands up to <paramref name="maxEvents"/> available events to the visitor; returns how many.</summary>
    int Read(ITelemetryVisitor visitor, int maxEvents);

    /// <summary>Completes when more durable events may be available; false when the log is closing.</summary>
    ValueTask<bool> WaitForEventsAsync(CancellationToken cancellationToken = default);
}
