using BenchmarkDotNet.Attributes;
using Broker.Core.Storage;

namespace Broker.Benchmarks.Storage;

/// <summary>
/// The steady append path: appends only, no durability wait, the group commit (defaults: no delay, 256 KiB) running
/// behind. Sustained, this is bound by the disk: once the events log's 16 MiB of memory is full, an append waits for
/// a commit (FasterTelemetryLog.WaitForRoom). "Allocated" is process-wide (commit loop and I/O completions included);
/// the appending thread's own figure is enforced by tests/Broker.Storage.Faster.Tests/AllocationBudgetTests.cs.
/// </summary>
[MemoryDiagnoser]
[MedianColumn]
[SimpleJob(launchCount: 1, warmupCount: 3, iterationCount: 10)]
[Config(typeof(ThroughputConfig))]
public class TelemetrySteadyAppendBenchmarks
{
    public const int Batch = 1000;

    private TempStore? _store;
    private ITelemetryLog? _events;
    private byte[] _body = [];

    [Params(256, 4096)]
    public int RecordSize { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        _store = TempStore.Open();
        _events = _store.Partition.Events;
        _body = new byte[RecordSize];
        Random.Shared.NextBytes(_body);
    }

    [Benchmark(OperationsPerInvoke = Batch)]
    public long Append()
    {
        var events = _events!;
        long end = 0;
        for (int i = 0; i < Batch; i++)
        {
            end = events.Append(_body).EndAddress;
        }

        return end;
    }

    [GlobalCleanup]
    public async Task CleanupAsync()
    {
        if (_store is not null)
        {
            await _store.DisposeAsync();
        }
    }
}
