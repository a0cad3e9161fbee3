using System.Buffers;
using Broker.Core.Storage;
using Broker.Storage.Faster.Commit;
using Broker.Storage.Faster.Records;
using Broker.Storage.Faster.Recovery;
using FASTER.core;
using Microsoft.Extensions.Logging;

namespace Broker.Storage.Faster.State;

/// <summary>
/// A partition's state: a FasterKV over SpanByte for reads, fed by a redo log (FasterLog) that makes each change
/// durable. The redo record is appended and the KV updated under one lock, so the log order is the apply order
/// and a checkpoint taken at a log address holds every change below it.
/// </summary>
internal sealed class FasterStateStore : IStateStore, IAsyncDisposable
{
    public const int MaxKeyLength = 1024;

    private readonly Lock _lock = new();
    private readonly DurableLog _redo;
    private readonly DeferredTruncationDevice _kvDevice;
    private readonly DeviceLogCommitCheckpointManager _checkpoints;
    private readonly FasterKV<SpanByte, SpanByte> _kv;
    private readonly StateFunctions _functions = new();
    private readonly ClientSession<SpanByte, SpanByte, SpanByte, ValueSink, Empty, StateFunctions> _session;
    private readonly StateStoreSizes _sizes;
    private (Guid Token, long BeginAddress)? _lastCheckpoint;

    private FasterStateStore(DurableLog redo, string kvDirectory, StateStoreSizes sizes)
    {
        _redo = redo;
        _sizes = sizes;
        KvDirectory = kvDirectory;
        CheckpointDirectory = Path.Combine(kvDirectory, "checkpoints");
        _kvDevice = new DeferredTruncationDevice(Devices.CreateLogDevice(Path.Combine(kvDirectory, "kv.log"), recoverDevice: true));
        _checkpoints = new DeviceLogCommitCheckpointManager(
            new LocalStorageNamedDeviceFactory(), new DefaultCheckpointNamingScheme(CheckpointDirectory), removeOutdated: false);
        _kv = new FasterKV<SpanByte, SpanByte>(new FasterKVSettings<SpanByte, SpanByte>
        {
            IndexSize = sizes.IndexBytes,
            LogDevice = _kvDevice,
            MemorySize = sizes.MemoryBytes,
            PageSize = sizes.PageBytes,
            SegmentSize = sizes.SegmentBytes,
            CheckpointManager = _checkpoints,
            RemoveOutdatedCheckpoints = false, // the manifest decides which checkpoint is current
            TryRecoverLatest = false,
        });
        _session = _kv.For(_functions).NewSession<StateFunctions>();
    }

    public string KvDirectory { get; }

    public string CheckpointDirectory { get; }

    public long DurableAddress => _redo.Queue.Durable;

    internal DurableLog RedoLog => _redo;

    internal long KvLogSpan => _kv.Log.TailAddress - _kv.Log.BeginAddress;

    /// <summary>
    /// The oldest KV log address still in use; segment files wholly below it are deleted once a manifest naming a
    /// checkpoint that begins there is durable (<see cref="ApplyDeferredTruncation"/>).
    /// </summary>
    internal long KvBeginAddress => _kv.Log.BeginAddress;

    /// <summary>The KV log's device, which holds back deleting segment files until the manifest allows it.</summary>
    internal DeferredTruncationDevice KvDevice => _kvDevice;

    /// <summary>Opens the redo log, restores the manifest's checkpoint and replays the redo log after it.</summary>
    public static FasterStateStore Open(string partitionDirectory, StateStoreSizes sizes, LogSizes logSizes, GroupCommitOptions commit,
        PartitionManifest manifest, ILogger logger, out long replayed)
    {
        var redo = DurableLog.Open(Path.Combine(partitionDirectory, "state"), "state", logSizes, commit, manifest.StateDurableAddress, logger);
        FasterStateStore? store = null;
        try
        {
            var kvDirectory = Path.Combine(partitionDirectory, "kv");
            Directory.CreateDirectory(kvDirectory);
            store = new FasterStateStore(redo, kvDirectory, sizes);
            if (manifest.CheckpointToken is { } token)
            {
                try
                {
                    store._kv.Recover(token);
                }
                catch (Exception ex)
                {
                    throw new StorageException($"The state checkpoint {token} named by the manifest could not be restored", store.CheckpointDirectory, ex);
                }
            }

            var replay = new ReplayVisitor(store);
            redo.VerifyAndRepair(manifest.CheckpointToken is null ? DurableLog.FirstAddress : manifest.StateLogAddress, replay);
            replayed = replay.Count;
            redo.StartCommitLoop();
            return store;
        }
        catch
        {
            if (store is not null)
            {
                store.DisposeKv();
            }

            redo.DisposeAsync().AsTask().GetAwaiter().GetResult();
            throw;
        }
    }

    public bool TryRead(StateRecordKind kind, ReadOnlySpan<byte> key, IBufferWriter<byte> value)
    {
        Span<byte> storedKey = stackalloc byte[key.Length + 1];
        ComposeKey(kind, key, storedKey);
        lock (_lock)
        {
            return ReadLocked(storedKey, value);
        }
    }

    private unsafe bool ReadLocked(Span<byte> storedKey, IBufferWriter<byte>? value)
    {
        fixed (byte* k = storedKey)
        {
            var spanKey = SpanByte.FromPointer(k, storedKey.Length);
            SpanByte input = default;
            var sink = new ValueSink { Writer = value };
            var status = _session.Read(ref spanKey, ref input, ref sink);
            if (status.IsPending)
            {
                _session.CompletePendingWithOutputs(out var outputs, wait: true);
                using (outputs)
                {
                    return outputs.Next() && outputs.Current.Status.Found;
                }
            }

            return status.Found;
        }
    }

    public long Upsert(StateRecordKind kind, ReadOnlySpan<byte> key, ReadOnlySpan<byte> value)
        => Write(StateOp.Upsert, kind, key, value);

    public long Delete(StateRecordKind kind, ReadOnlySpan<byte> key)
        => Write(StateOp.Delete, kind, key, default);

    private unsafe long Write(StateOp op, StateRecordKind kind, ReadOnlySpan<byte> key, ReadOnlySpan<byte> value)
    {
        if (key.Length is 0 or > MaxKeyLength)
        {
            throw new ArgumentException($"A state key must have 1 to {MaxKeyLength} bytes.", nameof(key));
        }

        // A redo record must fit in one page of the state log: FASTER fails a larger entry by stopping the log,
        // so it is refused here, before anything is written, and the store keeps serving.
        int maxValueLength = (((1 << _redo.PageSizeBits) - _redo.Log.HeaderSize) & ~3) - StateRecord.HeaderSize - key.Length;
        if (value.Length > maxValueLength)
        {
            throw new ArgumentException(
                $"A state value of {value.Length} bytes does not fit in one state-log page; at most {maxValueLength} bytes with this key.", nameof(value));
        }

        Span<byte> storedKey = stackalloc byte[key.Length + 1];
        ComposeKey(kind, key, storedKey);
        long end;
        fixed (byte* k = key)
        fixed (byte* v = value)
        {
            lock (_lock)
            {
                _redo.Enqueue(new PinnedStateEntry(op, kind, k, key.Length, v, value.Length), out end);
                ApplyLocked(op, storedKey, value);
            }
        }

        return end;
    }

    private unsafe void ApplyLocked(StateOp op, ReadOnlySpan<byte> storedKey, ReadOnlySpan<byte> value)
    {
        fixed (byte* k = storedKey)
        fixed (byte* v = value)
        {
            var spanKey = SpanByte.FromPointer(k, storedKey.Length);
            if (op == StateOp.Upsert)
            {
                var spanValue = SpanByte.FromPointer(v, value.Length);
                _session.Upsert(ref spanKey, ref spanValue);
            }
            else
            {
                var status = _session.Delete(ref spanKey);
                if (status.IsPending)
                {
                    _session.CompletePending(wait: true);
                }
            }
        }
    }

    public void Scan(StateRecordKind kind, ReadOnlySpan<byte> keyPrefix, IStateVisitor visitor)
    {
        var prefix = new byte[keyPrefix.Length + 1];
        ComposeKey(kind, keyPrefix, prefix);
        var scan = new PrefixScan(prefix, visitor);
        _kv.Iterate<SpanByte, ValueSink, Empty, StateFunctions, PrefixScan>(_functions, ref scan);
    }

    public void WhenDurable(long endAddress, IDurabilityCallback callback, long token) => _redo.WhenDurable(endAddress, callback, token);

    public ValueTask WaitDurableAsync(long endAddress, CancellationToken cancellationToken = default)
        => new(_redo.WaitDurableAsync(endAddress, cancellationToken));

    /// <summary>
    /// Checkpoints the KV. Every redo record below the returned address is in the checkpoint (records are
    /// applied under the lock before the address is read), so recovery replays from there. The KV log segments the
    /// checkpoint frees stay on disk until <see cref="ApplyDeferredTruncation"/> is called for it.
    /// </summary>
    public async ValueTask<(Guid Token, long StateLogAddress)> CheckpointAsync(CancellationToken cancellationToken)
    {
        long address;
        lock (_lock)
        {
            address = _redo.Log.TailAddress;
        }

        // The checkpoint records the log's begin address when it runs; the begin address only grows, and only
        // compaction (run before, by the same caller) and checkpoints move it, so this is a lower bound of it.
        long beginAddress = _kv.Log.BeginAddress;
        // Not cancellable once started: FASTER's checkpoint goes on in the background anyway, and it must be done
        // before the store closes.
        cancellationToken.ThrowIfCancellationRequested();
        var (success, token) = await _kv.TakeFullCheckpointAsync(CheckpointType.FoldOver, CancellationToken.None).ConfigureAwait(false);
        if (!success)
        {
            throw new StorageException("A state checkpoint could not be started", CheckpointDirectory);
        }

        _lastCheckpoint = (token, beginAddress);
        return (token, address);
    }

    /// <summary>
    /// Lets the KV log device delete the segment files below the begin address of checkpoint <paramref name="durable"/>:
    /// call only once a durable manifest names that checkpoint, so no checkpoint recovery could use needs them.
    /// </summary>
    public void ApplyDeferredTruncation(Guid durable)
    {
        if (_lastCheckpoint is { } last && last.Token == durable)
        {
            _kvDevice.AllowTruncationUntil(last.BeginAddress);
        }
    }

    /// <summary>Removes every checkpoint but <paramref name="current"/> (only after the manifest names it).</summary>
    public void PurgeCheckpointsExcept(Guid current)
    {
        foreach (var token in _checkpoints.GetLogCheckpointTokens().Concat(_checkpoints.GetIndexCheckpointTokens()).Distinct().ToList())
        {
            if (token != current)
            {
                _checkpoints.Purge(token);
            }
        }
    }

    /// <summary>Moves live records off the oldest part of the KV log when it spans more than the threshold.</summary>
    public long CompactIfNeeded()
    {
        if (KvLogSpan <= _sizes.CompactionThresholdBytes)
        {
            return -1;
        }

        long until = _kv.Log.SafeReadOnlyAddress;
        if (until <= _kv.Log.BeginAddress)
        {
            return -1;
        }

        using var session = _kv.For(_functions).NewSession<StateFunctions>();
        return session.Compact(until, CompactionType.Scan);
    }

    /// <summary>Truncates the redo log below an address a durable checkpoint covers.</summary>
    public void TruncateRedo(long address) => _redo.Log.TruncateUntil(address);

    private static void ComposeKey(StateRecordKind kind, ReadOnlySpan<byte> key, Span<byte> destination)
    {
        destination[0] = (byte)kind;
        key.CopyTo(destination[1..]);
    }

    public async ValueTask DisposeAsync()
    {
        await _redo.DisposeAsync().ConfigureAwait(false);
        DisposeKv();
    }

    private void DisposeKv()
    {
        _session.Dispose();
        _kv.Dispose();
        _kvDevice.Dispose();
        _checkpoints.Dispose();
    }

    /// <summary>Re-applies redo records on recovery; applying one twice leaves the same state.</summary>
    private sealed class ReplayVisitor(FasterStateStore store) : IRecordVisitor
    {
        public long Count { get; private set; }

        public bool Visit(ReadOnlySpan<byte> record, long address, long nextAddress)
        {
            if (!StateRecord.TryParse(record, out var op, out var kind, out var key, out var value))
            {
                return false;
            }

            Span<byte> storedKey = stackalloc byte[key.Length + 1];
            ComposeKey(kind, key, storedKey);
            store.ApplyLocked(op, storedKey, value);
            Count++;
            return true;
        }
    }
}
