using Broker.Core.Storage;
using Broker.Storage.Faster.Recovery;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace Broker.Storage.Faster;

/// <summary>
/// The hub's storage on FASTER: a fixed set of partitions under one data directory, and a background loop that
/// checkpoints them, applies retention and compacts, with a watchdog for checkpoints that do not finish.
/// </summary>
public sealed class FasterHubStore : IHubStore
{
    private readonly FasterPartitionStore[] _partitions;
    private readonly FasterStoreOptions _options;
    private readonly ILogger _logger;
    private readonly TimeProvider _time;
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _maintenance;

    private FasterHubStore(FasterPartitionStore[] partitions, FasterStoreOptions options, ILogger logger, TimeProvider time)
    {
        _partitions = partitions;
        _options = options;
        _logger = logger;
        _time = time;
        _maintenance = Task.Run(MaintenanceLoopAsync);
    }

    /// <summary>How many partitions the store has.</summary>
    public int PartitionCount => _partitions.Length;

    /// <summary>The data directory.</summary>
    public string DataDirectory => _options.DataDirectory;

    /// <summary>How many checkpoints the watchdog has reported as not finishing in time.</summary>
    public int StuckCheckpoints => _stuckCheckpoints;

    private int _stuckCheckpoints;

    /// <summary>Opens the store in <see cref="FasterStoreOptions.DataDirectory"/>, creating it on first start.</summary>
    public static FasterHubStore Open(FasterStoreOptions options, ILoggerFactory? loggerFactory = null, TimeProvider? time = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        time ??= TimeProvider.System;
        var logger = (loggerFactory ?? NullLoggerFactory.Instance).CreateLogger("Broker.Storage");
        var dataDirectory = Path.GetFullPath(options.DataDirectory);
        var descriptor = StoreDescriptor.OpenOrCreate(dataDirectory, options.PartitionCount, options.EventsLog, options.StateLog, time.GetUtcNow());
        var eventsLog = descriptor.EventsLog!.Apply(options.EventsLog, out bool eventsOverridden);
        var stateLog = descriptor.StateLog!.Apply(options.StateLog, out bool stateOverridden);
        if (eventsOverridden || stateOverridden)
        {
            StorageLog.LayoutKept(logger, eventsLog.PageSizeBits, eventsLog.SegmentSizeBits, stateLog.PageSizeBits, stateLog.SegmentSizeBits);
        }

        var partitions = new FasterPartitionStore[descriptor.PartitionCount];
        try
        {
            for (int i = 0; i < partitions.Length; i++)
            {
                partitions[i] = FasterPartitionStore.Open(i, Path.Combine(dataDirectory, $"p{i:D2}"), options, eventsLog, stateLog, logger, time);
            }
        }
        catch
        {
            foreach (var partition in partitions)
            {
                partition?.DisposeAsync().AsTask().GetAwaiter().GetResult();
            }

            throw;
        }

        return new FasterHubStore(partitions, options, logger, time);
    }

    /// <inheritdoc />
    public IPartitionStore GetPartition(int index) => _partitions[index];

    /// <inheritdoc />
    public IPartitionStore GetPartitionFor(string deviceId) => _partitions[PartitionHash.PartitionOf(deviceId, _partitions.Length)];

    internal FasterPartitionStore Partition(int index) => _partitions[index];

    /// <inheritdoc />
    public async ValueTask CheckpointAsync(CancellationToken cancellationToken = default)
    {
        foreach (var partition in _partitions)
        {
            await CheckpointWithWatchdogAsync(partition, cancellationToken).ConfigureAwait(false);
        }
    }

    private async Task CheckpointWithWatchdogAsync(FasterPartitionStore partition, CancellationToken cancellationToken)
    {
        var checkpoint = partition.CheckpointAsync(cancellationToken).AsTask();
        var started = _time.GetTimestamp();
        while (true)
        {
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            var watchdog = Task.Delay(_options.CheckpointWatchdog, _time, timeout.Token);
            var finished = await Task.WhenAny(checkpoint, watchdog).ConfigureAwait(false);
            await timeout.CancelAsync().ConfigureAwait(false);
            if (finished == checkpoint)
            {
                await checkpoint.ConfigureAwait(false);
                return;
            }

            if (cancellationToken.IsCancellationRequested)
            {
                // Stopping: let the checkpoint that is under way finish (or observe the cancellation) before the
                // partitions close, so nothing writes into the data directory after the store is disposed.
                await checkpoint.ConfigureAwait(false);
                return;
            }

            Interlocked.Increment(ref _stuckCheckpoints);
            StorageLog.CheckpointStuck(_logger, partition.Index, _time.GetElapsedTime(started).TotalSeconds);
        }
    }

    private async Task MaintenanceLoopAsync()
    {
        using var timer = new PeriodicTimer(_options.CheckpointInterval, _time);
        try
        {
            while (await timer.WaitForNextTickAsync(_stop.Token).ConfigureAwait(false))
            {
                foreach (var partition in _partitions)
                {
                    try
                    {
                        await CheckpointWithWatchdogAsync(partition, _stop.Token).ConfigureAwait(false);
                    }
                    catch (Exception ex) when (ex is not OperationCanceledException)
                    {
                        StorageLog.CheckpointFailed(_logger, ex, partition.Index);
                    }
                }
            }
        }
        catch (OperationCanceledException)
        {
        }
    }

    /// <summary>Stops maintenance, commits what is pending (finishing acknowledgements) and closes every partition.</summary>
    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync().ConfigureAwait(false);
        await _maintenance.ConfigureAwait(false);
        foreach (var partition in _partitions)
        {
            await partition.DisposeAsync().ConfigureAwait(false);
        }

        _stop.Dispose();
    }
}
