using BenchmarkDotNet.Attributes;
using Broker.Core.Storage;
using Broker.Storage.Faster;

namespace Broker.Benchmarks.Storage;

/// <summary>
/// Telemetry append + group commit: each invocation appends a batch of <see cref="Batch"/> records, each registered
/// with one shared durability callback (as a connection's ack queue would), and waits until the last is durable.
/// Times are per record (OperationsPerInvoke). "Allocated" is BenchmarkDotNet's process-wide figure, so it includes
/// the commit loop and FASTER's I/O completions, not just the appending thread.
/// </summary>
[MemoryDiagnoser]
[MedianColumn]
[SimpleJob(launchCount: 1, warmupCount: 3, iterationCount: 10)]
[Config(typeof(ThroughputConfig))]
public class TelemetryAppendBenchmarks
{
    public const int Batch = 1000;

    private TempStore? _store;
    private ITelemetryLog? _events;
    private BatchCallback? _callback;
    private byte[] _body = [];

    [Params(256, 4096)]
    public int RecordSize { get; set; }

    /// <summary>GroupCommitOptions.MaxDelay in milliseconds.</summary>
    [Params(0, 1, 5)]
    public int MaxDelayMs { get; set; }

    /// <summary>GroupCommitOptions.MaxBytes.</summary>
    [Params(64 * 1024, 1024 * 1024)]
    public int MaxBytes { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        _store = TempStore.Open(new GroupCommitOptions { MaxDelay = TimeSpan.FromMilliseconds(MaxDelayMs), MaxBytes = MaxBytes });
        _events = _store.Partition.Events;
        _callback = new BatchCallback();
        _body = new byte[RecordSize];
        Random.Shared.NextBytes(_body);
    }

    [Benchmark(OperationsPerInvoke = Batch)]
    public long AppendAndCommit()
    {
        var events = _events!;
        var callback = _callback!;
        callback.Expect(Batch - 1);
        long end = 0;
        for (int i = 0; i < Batch; i++)
        {
            end = events.Append(_body, callback, i).EndAddress;
        }

        callback.Wait();
        return end;
    }

    [GlobalCleanup]
    public async Task CleanupAsync()
    {
        if (_store is not null)
        {
            await _store.DisposeAsync();
        }

        _callback?.Dispose();
    }
}
