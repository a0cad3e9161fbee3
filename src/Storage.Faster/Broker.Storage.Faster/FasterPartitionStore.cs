using Broker.Core.Storage;
using Broker.Storage.Faster.Events;
using Broker.Storage.Faster.Recovery;
using Broker.Storage.Faster.State;
using Microsoft.Extensions.Logging;

namespace Broker.Storage.Faster;

/// <summary>
/// One partition on disk (<c>pNN/</c>): the state KV with its redo log, the events log and the manifest that says
/// where recovery starts.
/// </summary>
internal sealed class FasterPartitionStore : IPartitionStore, IAsyncDisposable
{
    private readonly string _directory;
    private readonly FasterStoreOptions _options;
    private readonly ILogger _logger;
    private readonly TimeProvider _time;
    private readonly SemaphoreSlim _maintenance = new(1, 1);
    private readonly FasterStateStore _state;
    private readonly FasterTelemetryLog _events;
    private PartitionManifest _manifest;

    private FasterPartitionStore(int index, string directory, FasterStoreOptions options, ILogger logger, TimeProvider time,
        PartitionManifest manifest, FasterStateStore state, FasterTelemetryLog events)
    {
        Index = index;
        _directory = directory;
        _options = options;
        _logger = logger;
        _time = time;
        _manifest = manifest;
        _state = state;
        _events = events;
    }

    public int Index { get; }

    public IStateStore State => _state;

    public ITelemetryLog Events => _events;

    internal FasterStateStore StateStore => _state;

    internal FasterTelemetryLog EventsLog => _events;

    internal string Directory => _directory;

    /// <summary>Test hook: runs before each checkpoint (an injected fault can make it hang).</summary>
    internal Func<CancellationToken, Task>? BeforeCheckpoint { get; set; }

    /// <summary>
    /// Test hook: runs after the KV checkpoint is taken and before the manifest names it (throwing here stands in
    /// for a crash in that window).
    /// </summary>
    internal Func<CancellationToken, Task>? BeforeManifestWrite { get; set; }

    public static FasterPartitionStore Open(int index, string directory, FasterStoreOptions options, LogSizes eventsLog, LogSizes stateLog, ILogger logger, TimeProvider time)
    {
        var manifest = ManifestFile.TryRead(directory);
        if (manifest is null)
        {
            if (System.IO.Directory.Exists(directory) && System.IO.Directory.EnumerateFiles(directory, "*", SearchOption.AllDirectories).Any())
            {
                throw new StorageException("The partition holds data but its manifest is missing", Path.Combine(directory, ManifestFile.FileName));
            }

            System.IO.Directory.CreateDirectory(directory);
            manifest = new PartitionManifest { Partition = index, WrittenUtc = time.GetUtcNow() };
            ManifestFile.Write(directory, manifest);
        }
        else if (manifest.Partition != index)
        {
            throw new StorageException($"The manifest belongs to partition {manifest.Partition}, not {index}", Path.Combine(directory, ManifestFile.FileName));
        }

        var state = FasterStateStore.Open(directory, options.StateStore, stateLog, options.GroupCommit, manifest, logger, out long replayed);
        try
        {
            manifest = LowerDurableMarks(directory, manifest, state.DurableAddress, long.MaxValue, time);
            var events = FasterTelemetryLog.Open(Path.Combine(directory, "events"), eventsLog, options.GroupCommit,
                manifest.EventsDurableAddress, manifest.EventsNextSequence, options.TailVerificationPages, state, time, logger);
            try
            {
                manifest = LowerDurableMarks(directory, manifest, state.DurableAddress, events.DurableAddress, time);
            }
            catch
            {
                events.DisposeAsync().AsTask().GetAwaiter().GetResult();
                throw;
            }

            StorageLog.PartitionRecovered(logger, index, manifest.CheckpointToken?.ToString() ?? "none", replayed,
                events.BeginOffset, events.DurableAddress, events.NextSequenceNumber);
            return new FasterPartitionStore(index, directory, options, logger, time, manifest, state, events);
        }
        catch
        {
            state.DisposeAsync().AsTask().GetAwaiter().GetResult();
            throw;
        }
    }

    /// <summary>
    /// Recovery cut a corrupt tail off a log below what the manifest had seen as durable: lower the manifest's mark
    /// at once (each log right after it opens), or the next start would take the shorter log for lost commit metadata.
    /// </summary>
    private static PartitionManifest LowerDurableMarks(string directory, PartitionManifest manifest, long stateDurable, long eventsDurable, TimeProvider time)
    {
        if (stateDurable >= manifest.StateDurableAddress && eventsDurable >= manifest.EventsDurableAddress)
        {
            return manifest;
        }

        var lowered = manifest with
        {
            StateDurableAddress = Math.Min(manifest.StateDurableAddress, stateDurable),
            EventsDurableAddress = Math.Min(manifest.EventsDurableAddress, eventsDurable),
            WrittenUtc = time.GetUtcNow(),
        };
        ManifestFile.Write(directory, lowered);
        return lowered;
    }

    /// <summary>
    /// Compacts the KV if it has grown, checkpoints it, writes the manifest, then drops what the manifest no longer
    /// needs (older checkpoints, KV log segments below the checkpoint's begin address, redo records below the
    /// checkpoint) and applies telemetry retention. Nothing the manifest still names is deleted before the new
    /// manifest is durable: a crash in between recovers from the previous checkpoint with all its files.
    /// </summary>
    public async ValueTask CheckpointAsync(CancellationToken cancellationToken)
    {
        await _maintenance.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            if (BeforeCheckpoint is { } hook)
            {
                await hook(cancellationToken).ConfigureAwait(false);
            }

            long compacted = _state.CompactIfNeeded();
            if (compacted > 0)
            {
                StorageLog.Compacted(_logger, Index, compacted);
            }

            var (nextSequence, eventsTail) = _events.SequenceMark();
            await _events.DurableLog.FlushAsync().ConfigureAwait(false);
            var (token, stateAddress) = await _state.CheckpointAsync(cancellationToken).ConfigureAwait(false);
            await _state.RedoLog.FlushAsync().ConfigureAwait(false);
            if (BeforeManifestWrite is { } beforeManifest)
            {
                await beforeManifest(cancellationToken).ConfigureAwait(false);
            }

            _manifest = _manifest with
            {
                CheckpointToken = token,
                StateLogAddress = stateAddress,
                StateDurableAddress = _state.DurableAddress,
                EventsDurableAddress = Math.Min(eventsTail, _events.DurableAddress),
                EventsNextSequence = nextSequence,
                WrittenUtc = _time.GetUtcNow(),
            };
            ManifestFile.Write(_directory, _manifest);

            _state.PurgeCheckpointsExcept(token);
            _state.ApplyDeferredTruncation(token);
            _state.TruncateRedo(stateAddress);
            long cut = _events.ApplyRetention((_time.GetUtcNow() - _options.Retention).UtcTicks);
            if (cut > 0)
            {
                StorageLog.RetentionTruncated(_logger, Index, cut);
            }

            // Commit the truncations so FASTER deletes the segment files they free.
            await _state.RedoLog.FlushAsync().ConfigureAwait(false);
            await _events.DurableLog.FlushAsync().ConfigureAwait(false);
        }
        finally
        {
            _maintenance.Release();
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _maintenance.WaitAsync().ConfigureAwait(false); // a checkpoint under way finishes first
        await _events.DisposeAsync().ConfigureAwait(false);
        await _state.DisposeAsync().ConfigureAwait(false);
        _maintenance.Dispose();
    }
}
