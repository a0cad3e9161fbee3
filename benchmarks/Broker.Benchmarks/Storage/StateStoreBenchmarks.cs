using System.Buffers;
using System.Text;
using BenchmarkDotNet.Attributes;
using Broker.Core.Storage;

namespace Broker.Benchmarks.Storage;

/// <summary>
/// State KV latency on 10,000 keys with 200 B values (twin-sized): a read into a reused buffer, and an upsert
/// (redo-log append + KV update, not waiting for durability). Keys are visited round-robin.
/// </summary>
[MemoryDiagnoser]
[MedianColumn]
[SimpleJob(launchCount: 1, warmupCount: 3, iterationCount: 10)]
public class StateStoreBenchmarks
{
    public const int Keys = 10_000;
    public const int ValueSize = 200;

    private readonly ArrayBufferWriter<byte> _buffer = new(ValueSize * 2);
    private readonly byte[] _value = new byte[ValueSize];
    private byte[][] _keys = [];
    private TempStore? _store;
    private IStateStore? _state;
    private int _next;

    [GlobalSetup]
    public async Task SetupAsync()
    {
        _store = TempStore.Open();
        _state = _store.Partition.State;
        Random.Shared.NextBytes(_value);
        _keys = new byte[Keys][];
        long last = 0;
        for (int i = 0; i < Keys; i++)
        {
            _keys[i] = Encoding.UTF8.GetBytes($"device-{i:D5}");
            last = _state.Upsert(StateRecordKind.Twin, _keys[i], _value);
        }

        await _state.WaitDurableAsync(last);
    }

    [Benchmark]
    public bool TryRead()
    {
        _buffer.ResetWrittenCount();
        return _state!.TryRead(StateRecordKind.Twin, NextKey(), _buffer);
    }

    [Benchmark]
    public long Upsert() => _state!.Upsert(StateRecordKind.Twin, NextKey(), _value);

    private byte[] NextKey()
    {
        var key = _keys[_next];
        _next = _next + 1 == Keys ? 0 : _next + 1;
        return key;
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
