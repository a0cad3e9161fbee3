namespace Broker.Core.Storage;

/// <summary>The hub's storage: a fixed number of partitions chosen when the store was created.</summary>
public interface IHubStore : IAsyncDisposable
{
    /// <summary>How many partitions the store has.</summary>
    int PartitionCount { get; }

    /// <summary>The partition with the given index.</summary>
    IPartitionStore GetPartition(int index);

    /// <summary>The partition a device belongs to (see <see cref="PartitionHash"/>).</summary>
    IPartitionStore GetPartitionFor(string deviceId);

    /// <summary>Takes a checkpoint of every partition now (also runs on a timer).</summary>
    ValueTask CheckpointAsync(CancellationToken cancellationToken = default);
}
