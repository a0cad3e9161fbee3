using Broker.Core.Storage;
using Broker.Storage.Faster;

namespace Broker.Benchmarks.Storage;

/// <summary>
/// A one-partition store with production log sizes in a fresh temp folder, deleted on dispose. Checkpoints are
/// pushed out of the run (interval 1 h) and nothing is truncated while it runs: a truncation commit makes FASTER's
/// next page turns spin and allocate (see benchmarks/README.md), which a benchmark that truncated every few hundred
/// megabytes would report as the cost of an append. A case therefore leaves up to about 10 GB in the temp folder
/// until its GlobalCleanup.
/// </summary>
internal sealed class TempStore : IAsyncDisposable
{
    private readonly FasterHubStore _store;

    private TempStore(string directory, FasterHubStore store)
    {
        Directory = directory;
        _store = store;
    }

    public string Directory { get; }

    public IPartitionStore Partition => _store.GetPartition(0);

    public static TempStore Open(GroupCommitOptions? groupCommit = null)
    {
        var directory = Path.Combine(Path.GetTempPath(), "broker-benchmarks", Guid.NewGuid().ToString("N"));
        System.IO.Directory.CreateDirectory(directory);
        var store = FasterHubStore.Open(new FasterStoreOptions
        {
            DataDirectory = directory,
            PartitionCount = 1,
            GroupCommit = groupCommit ?? new GroupCommitOptions(),
            CheckpointInterval = TimeSpan.FromHours(1),
        });
        return new TempStore(directory, store);
    }

    public async ValueTask DisposeAsync()
    {
        await _store.DisposeAsync().ConfigureAwait(false);
        try
        {
            System.IO.Directory.Delete(Directory, recursive: true);
        }
        catch (IOException)
        {
            // best effort: a leaked temp folder must not fail the run
        }
    }
}
