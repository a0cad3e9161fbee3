using FASTER.core;

namespace Broker.Storage.Faster.State;

/// <summary>
/// The KV log's device: forwards everything to the real device, except that it holds back the deletion of segment
/// files below the log's begin address until the manifest no longer needs them.
/// </summary>
/// <remarks>
/// <para>
/// A FoldOver checkpoint ends with <c>ShiftBeginAddress(begin, truncateLog: true)</c>, which asks the device (from a
/// background task) to <see cref="IDevice.TruncateUntilAddress(long)"/> the checkpoint's begin address. After a
/// compaction that address is past segments the previous checkpoint still needs, and the request comes before the
/// manifest names the new checkpoint: a crash in between would leave a manifest whose checkpoint cannot be restored.
/// So truncation requests (by address or by segment) are only recorded here, and carried out up to the address that
/// <see cref="AllowTruncationUntil"/> releases once a manifest naming a checkpoint with that begin address is
/// durable. A request that arrives after its release is carried out at once; files never deleted (a crash, a failed
/// manifest write) stay below the begin address, where recovery ignores them, until the next checkpoint's release.
/// </para>
/// <para>
/// <see cref="IDevice.RemoveSegment(int)"/> is forwarded: FASTER removes single segments of the main log only when
/// trimming the tail past a recovered checkpoint, which is data no checkpoint needs and which the log will
/// overwrite, so holding it back would delete a segment back in use.
/// </para>
/// </remarks>
internal sealed class DeferredTruncationDevice(IDevice inner) : IDevice
{
    private readonly Lock _lock = new();
    private long _requested;
    private long _allowed;
    private long _truncated;
    private bool _disposed;

    /// <summary>Test hook: runs after a truncation request has been recorded, with the highest address requested.</summary>
    internal event Action<long>? TruncationRequested;

    /// <summary>The highest address below which FASTER has asked to delete the log.</summary>
    internal long RequestedUntilAddress => Volatile.Read(ref _requested);

    /// <summary>The highest address below which deletion has been released (a durable manifest no longer needs it).</summary>
    internal long AllowedUntilAddress => Volatile.Read(ref _allowed);

    /// <summary>The highest address up to which truncation has been handed to the device.</summary>
    internal long TruncatedUntilAddress => Volatile.Read(ref _truncated);

    public uint SectorSize => inner.SectorSize;

    public string FileName => inner.FileName;

    public long Capacity => inner.Capacity;

    public long SegmentSize => inner.SegmentSize;

    public int StartSegment => inner.StartSegment;

    public int EndSegment => inner.EndSegment;

    public int ThrottleLimit
    {
        get => inner.ThrottleLimit;
        set => inner.ThrottleLimit = value;
    }

    public void Initialize(long segmentSize, LightEpoch? epoch = null, bool omitSegmentIdFromFilename = false)
        => inner.Initialize(segmentSize, epoch, omitSegmentIdFromFilename);

    public bool TryComplete() => inner.TryComplete();

    public bool Throttle() => inner.Throttle();

    public void WriteAsync(IntPtr sourceAddress, int segmentId, ulong destinationAddress, uint numBytesToWrite, DeviceIOCompletionCallback callback, object context)
        => inner.WriteAsync(sourceAddress, segmentId, destinationAddress, numBytesToWrite, callback, context);

    public void ReadAsync(int segmentId, ulong sourceAddress, IntPtr destinationAddress, uint readLength, DeviceIOCompletionCallback callback, object context)
        => inner.ReadAsync(segmentId, sourceAddress, destinationAddress, readLength, callback, context);

    public void WriteAsync(IntPtr alignedSourceAddress, ulong alignedDestinationAddress, uint numBytesToWrite, DeviceIOCompletionCallback callback, object context)
        => inner.WriteAsync(alignedSourceAddress, alignedDestinationAddress, numBytesToWrite, callback, context);

    public void ReadAsync(ulong alignedSourceAddress, IntPtr alignedDestinationAddress, uint aligned_read_length, DeviceIOCompletionCallback callback, object context)
        => inner.ReadAsync(alignedSourceAddress, alignedDestinationAddress, aligned_read_length, callback, context);

    /// <summary>Records the request; the files go once <see cref="AllowTruncationUntil"/> releases them.</summary>
    public void TruncateUntilAddressAsync(long toAddress, AsyncCallback callback, IAsyncResult result)
    {
        Request(toAddress);
        callback(result);
    }

    /// <summary>Records the request; the files go once <see cref="AllowTruncationUntil"/> releases them.</summary>
    public void TruncateUntilAddress(long toAddress) => Request(toAddress);

    /// <summary>Records the request; the files go once <see cref="AllowTruncationUntil"/> releases them.</summary>
    public void TruncateUntilSegmentAsync(int toSegment, AsyncCallback callback, IAsyncResult result)
    {
        Request(SegmentStart(toSegment));
        callback(result);
    }

    /// <summary>Records the request; the files go once <see cref="AllowTruncationUntil"/> releases them.</summary>
    public void TruncateUntilSegment(int toSegment) => Request(SegmentStart(toSegment));

    public void RemoveSegmentAsync(int segment, AsyncCallback callback, IAsyncResult result) => inner.RemoveSegmentAsync(segment, callback, result);

    public void RemoveSegment(int segment) => inner.RemoveSegment(segment);

    public long GetFileSize(int segment) => inner.GetFileSize(segment);

    public void Reset() => inner.Reset();

    /// <summary>
    /// Releases deletion below <paramref name="address"/> (a durable manifest names a checkpoint whose log begins at or
    /// after it) and carries out what was requested up to there.
    /// </summary>
    public void AllowTruncationUntil(long address)
    {
        lock (_lock)
        {
            _allowed = Math.Max(_allowed, address);
            TruncateLocked();
        }
    }

    public void Dispose()
    {
        lock (_lock)
        {
            _disposed = true;
        }

        inner.Dispose();
    }

    private void Request(long toAddress)
    {
        long requested;
        lock (_lock)
        {
            _requested = Math.Max(_requested, toAddress);
            requested = _requested;
            TruncateLocked();
        }

        TruncationRequested?.Invoke(requested);
    }

    /// <summary>
    /// Hands the released part of the requests to the device, which deletes whole segments below the address under
    /// epoch protection (readers may still be finishing with them). Under the lock so that it cannot race Dispose.
    /// </summary>
    private void TruncateLocked()
    {
        long until = Math.Min(_requested, _allowed);
        if (_disposed || until <= _truncated)
        {
            return;
        }

        _truncated = until;
        inner.TruncateUntilAddressAsync(until, static _ => { }, null);
    }

    private long SegmentStart(int segment) => SegmentSize > 0 ? segment * SegmentSize : 0;
}
