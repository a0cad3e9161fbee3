namespace Broker.Core.Storage;

/// <summary>A log whose appends become durable in groups (group commit).</summary>
public interface IDurableLog
{
    /// <summary>Everything appended below this address is durable.</summary>
    long DurableAddress { get; }

    /// <summary>
    /// Calls <paramref name="callback"/> once the record ending at <paramref name="endAddress"/> is durable,
    /// at once if it already is. Callbacks run in registration order; a registration that arrives after one
    /// with a higher address is told no earlier than that one.
    /// </summary>
    void WhenDurable(long endAddress, IDurabilityCallback callback, long token);

    /// <summary>Completes once everything below <paramref name="endAddress"/> is durable (not for hot paths).</summary>
    ValueTask WaitDurableAsync(long endAddress, CancellationToken cancellationToken = default);
}
