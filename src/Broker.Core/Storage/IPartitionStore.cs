namespace Broker.Core.Storage;

/// <summary>The storage of one partition: its state and its events.</summary>
public interface IPartitionStore
{
    /// <summary>The partition's index, from 0.</summary>
    int Index { get; }

    /// <summary>The partition's key/value state.</summary>
    IStateStore State { get; }

    /// <summary>The partition's events log (the built-in events endpoint).</summary>
    ITelemetryLog Events { get; }
}
