using Broker.Core.Storage;
using Broker.Plugins.Routing;
using Microsoft.Extensions.Logging;

namespace Broker.Core.Routing;

/// <summary>
/// Delivers the messages routes send to one custom endpoint: per partition, a named reader
/// (<c>route:{endpoint}</c>) walks the events log, a batch of the messages the routes select goes to the endpoint's
/// sink, and the reader's position moves past the batch only once the sink has accepted it (at least once, in order
/// per partition; the reader holds back retention meanwhile). A sink that fails gets the same batch again after a
/// growing pause (1 s to 1 min); calls to one sink never overlap. A new endpoint starts at the log's tail: routes
/// apply to messages sent after they are added, as on IoT Hub.
/// </summary>
public sealed class EndpointPump
{
    /// <summary>The prefix of the endpoints' reader names.</summary>
    public const string ReaderPrefix = "route:";

    /// <summary>Most events read for one batch.</summary>
    public const int MaxBatchEvents = 100;

    private static readonly TimeSpan FirstRetryDelay = TimeSpan.FromSeconds(1);
    private static readonly TimeSpan MaxRetryDelay = TimeSpan.FromMinutes(1);

    private readonly string _endpoint;
    private readonly IEndpointSink _sink;
    private readonly MessageRouter _router;
    private readonly IHubStore _store;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly SemaphoreSlim _oneCallAtATime = new(1, 1);

    public EndpointPump(string endpoint, IEndpointSink sink, MessageRouter router, IHubStore store, TimeProvider time, ILogger logger)
    {
        _endpoint = endpoint;
        _sink = sink;
        _router = router;
        _store = store;
        _time = time;
        _logger = logger;
    }

    /// <summary>The named reader of this endpoint in every partition's events log.</summary>
    public string ReaderName => ReaderPrefix + _endpoint;

    /// <summary>
    /// Gives a new endpoint its readers, at each log's tail. Called before the broker reports itself started, so that
    /// no message accepted after that is missed by an endpoint that is starting.
    /// </summary>
    public void EnsureReaders()
    {
        for (int partition = 0; partition < _store.PartitionCount; partition++)
        {
            var log = _store.GetPartition(partition).Events;
            if (log.GetReaderPosition(ReaderName) is null)
            {
                log.SetReaderPosition(ReaderName, log.TailOffset);
            }
        }
    }

    /// <summary>Runs until <paramref name="stop"/> is cancelled or the store closes.</summary>
    public Task RunAsync(CancellationToken stop)
        => Task.WhenAll(Enumerable.Range(0, _store.PartitionCount).Select(partition => Task.Run(() => RunPartitionAsync(partition, stop), CancellationToken.None)));

    private async Task RunPartitionAsync(int partition, CancellationToken stop)
    {
        var log = _store.GetPartition(partition).Events;
        long position = log.GetReaderPosition(ReaderName) ?? log.TailOffset;
        using var reader = log.OpenReader(position);
        var collector = new RoutedBatchCollector(_endpoint, _router);
        try
        {
            while (!stop.IsCancellationRequested)
            {
                collector.Batch.Clear();
                if (reader.Read(collector, MaxBatchEvents) == 0)
                {
                    if (!await reader.WaitForEventsAsync(stop).ConfigureAwait(false))
                    {
                        return; // the log is closing
                    }

                    continue;
                }

                if (collector.Batch.Count > 0 && !await DeliverAsync(partition, collector.Batch, stop).ConfigureAwait(false))
                {
                    return; // stopped before the sink took it: offered again after a restart
                }

                log.SetReaderPosition(ReaderName, reader.Position);
            }
        }
        catch (OperationCanceledException) when (stop.IsCancellationRequested)
        {
        }
        catch (StorageException ex)
        {
            RoutingLog.PumpStopped(_logger, _endpoint, partition, ex);
        }
    }

    private async Task<bool> DeliverAsync(int partition, List<RoutedMessage> batch, CancellationToken stop)
    {
        var delay = FirstRetryDelay;
        while (true)
        {
            await _oneCallAtATime.WaitAsync(stop).ConfigureAwait(false);
            try
            {
                await _sink.WriteAsync(batch, stop).ConfigureAwait(false);
                return true;
            }
            catch (OperationCanceledException) when (stop.IsCancellationRequested)
            {
                return false;
            }
            catch (Exception ex)
            {
                RoutingLog.SinkFailed(_logger, _endpoint, partition, batch.Count, delay, ex);
            }
            finally
            {
                _oneCallAtATime.Release();
            }

            try
            {
                await Task.Delay(delay, _time, stop).ConfigureAwait(false); // the retry pause, not a wait for an event
            }
            catch (OperationCanceledException)
            {
                return false;
            }

            delay = TimeSpan.FromTicks(Math.Min(delay.Ticks * 2, MaxRetryDelay.Ticks));
        }
    }
}
