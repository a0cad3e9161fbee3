using System.Collections.Concurrent;
using System.Globalization;
using FASTER.core;
using Microsoft.Win32.SafeHandles;

namespace Broker.Storage.Faster.Commit;

/// <summary>
/// A FASTER device over segment files (<c>name.log.N</c>, the names FASTER's own devices use) that does each read and
/// write as one positional system call (<see cref="RandomAccess"/>) on a pooled thread-pool work item. FASTER's
/// ManagedLocalStorageDevice, which this replaces for the logs, runs every page write through <c>Task.Run</c>, an
/// async state machine, a stream pool, <c>FileStream.WriteAsync</c> (another thread-pool hop) and <c>FlushAsync</c>:
/// a dozen objects and three hops per write, and a group commit writes at least one page. Here a write costs one hop
/// and, once the pool has warmed up, nothing allocated. Files are opened as FASTER opens them (unbuffered, write-through),
/// so a completed write is on disk.
/// </summary>
internal sealed class SegmentFileDevice : StorageDeviceBase
{
    private const int NoBuffering = 0x20000000; // FILE_FLAG_NO_BUFFERING; O_DIRECT on Linux
    private readonly ConcurrentDictionary<int, SafeFileHandle> _handles = new();
    private readonly Lock _poolLock = new();
    private readonly Stack<IoRequest> _pool = new(); // a lock and a stack: ConcurrentStack allocates a node per push
    private volatile bool _disposed;

    /// <summary>
    /// Called after FASTER's own completion callback of every write (segment, error code or 0): by then FASTER has
    /// moved its flushed-until address past a successful page write, so the group commit can check it.
    /// </summary>
    public Action<int, uint>? WriteCompleted { get; set; }

    public SegmentFileDevice(string filename, bool recoverDevice)
        : base(filename, 512, Devices.CAPACITY_UNSPECIFIED)
    {
        var directory = Path.GetDirectoryName(Path.GetFullPath(filename));
        if (directory is not null)
        {
            Directory.CreateDirectory(directory);
        }

        if (recoverDevice)
        {
            RecoverSegments();
        }
    }

    /// <summary>Finds the segment range on disk, as FASTER's devices do.</summary>
    private void RecoverSegments()
    {
        var file = new FileInfo(FileName);
        if (file.Directory is not { Exists: true } directory)
        {
            return;
        }

        var ids = new List<int>();
        foreach (var item in directory.GetFiles(file.Name + ".*"))
        {
            if (int.TryParse(item.Name.AsSpan(file.Name.Length + 1), NumberStyles.None, CultureInfo.InvariantCulture, out int id))
            {
                ids.Add(id);
            }
        }

        ids.Sort();
        int previous = -1;
        foreach (int id in ids)
        {
            if (id != previous + 1)
            {
                startSegment = id;
            }
            else
            {
                endSegment = id;
            }

            previous = id;
        }
    }

    private SafeFileHandle HandleFor(int segment)
    {
        if (_handles.TryGetValue(segment, out var handle))
        {
            return handle;
        }

        ObjectDisposedException.ThrowIf(_disposed, this);
        var opened = File.OpenHandle(GetSegmentFilename(FileName, segment), FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.ReadWrite,
            FileOptions.WriteThrough | (FileOptions)NoBuffering);
        if (_handles.TryAdd(segment, opened))
        {
            return opened;
        }

        opened.Dispose();
        return _handles[segment];
    }

    public override void WriteAsync(IntPtr sourceAddress, int segmentId, ulong destinationAddress, uint numBytesToWrite, DeviceIOCompletionCallback callback, object context)
    {
        HandleCapacity(segmentId);
        Queue(write: true, segmentId, sourceAddress, destinationAddress, numBytesToWrite, callback, context);
    }

    /// <summary>
    /// The log's durable end (its committed-until address). Bytes below it are on disk as they are in memory (records
    /// never change once appended), so a page write FASTER issues skips them: the group commit has already written the
    /// tail page up to there, and rewriting it when the page fills would double the bytes written and make the commit
    /// after each page turn wait for a whole page.
    /// </summary>
    public Func<long>? DurableUntil { get; set; }

    private const int SkipAlignment = 512;

    /// <summary>How many leading bytes of a write at <paramref name="offset"/> of <paramref name="segment"/> are already durable.</summary>
    private int AlreadyDurable(int segment, long offset, int length)
    {
        if (DurableUntil is not { } durableUntil || segmentSize <= 0)
        {
            return 0;
        }

        long start = (segment * segmentSize) + offset;
        long durable = durableUntil() - start;
        if (durable <= 0)
        {
            return 0;
        }

        return durable >= length ? length : (int)(durable & ~(SkipAlignment - 1L)); // whole sectors
    }

    /// <summary>One synchronous write-through write at <paramref name="offset"/> of a segment (the group commit's tail page).</summary>
    public void WriteThrough(int segment, long offset, ReadOnlySpan<byte> data)
    {
        HandleCapacity(segment);
        RandomAccess.Write(HandleFor(segment), data, offset);
    }

    public override void ReadAsync(int segmentId, ulong sourceAddress, IntPtr destinationAddress, uint readLength, DeviceIOCompletionCallback callback, object context)
        => Queue(write: false, segmentId, destinationAddress, sourceAddress, readLength, callback, context);

    private void Queue(bool write, int segment, IntPtr memory, ulong fileOffset, uint length, DeviceIOCompletionCallback callback, object context)
    {
        IoRequest? request;
        lock (_poolLock)
        {
            _pool.TryPop(out request);
        }

        request ??= new IoRequest(this);
        request.Set(write, segment, memory, fileOffset, length, callback, context);
        ThreadPool.UnsafeQueueUserWorkItem(request, preferLocal: false);
    }

    private unsafe void Execute(IoRequest request)
    {
        uint error = 0;
        uint done = 0;
        try
        {
            var handle = HandleFor(request.Segment);
            var memory = new Span<byte>((void*)request.Memory, (int)request.Length);
            if (request.Write)
            {
                int skip = AlreadyDurable(request.Segment, (long)request.FileOffset, memory.Length);
                if (skip < memory.Length)
                {
                    RandomAccess.Write(handle, memory[skip..], (long)request.FileOffset + skip);
                }

                done = request.Length;
            }
            else
            {
                int total = 0;
                while (total < memory.Length)
                {
                    int read = RandomAccess.Read(handle, memory[total..], (long)request.FileOffset + total);
                    if (read == 0)
                    {
                        break; // past the end of the file: FASTER gets what there is
                    }

                    total += read;
                }

                done = (uint)total;
            }
        }
        catch (Exception ex)
        {
            error = ex is IOException io && (io.HResult & 0xFFFF) != 0 ? (uint)(io.HResult & 0xFFFF) : uint.MaxValue;
            done = 0;
        }

        var callback = request.Callback!;
        object context = request.Context!;
        bool write = request.Write;
        int segment = request.Segment;
        request.Clear();
        lock (_poolLock)
        {
            _pool.Push(request);
        }

        callback(error, done, context);
        if (write)
        {
            WriteCompleted?.Invoke(segment, error);
        }
    }

    public override void RemoveSegmentAsync(int segment, AsyncCallback callback, IAsyncResult result)
    {
        RemoveSegment(segment);
        callback(result);
    }

    public override void RemoveSegment(int segment)
    {
        if (_handles.TryRemove(segment, out var handle))
        {
            handle.Dispose();
        }

        try
        {
            File.Delete(GetSegmentFilename(FileName, segment));
        }
        catch (IOException)
        {
            // left for the next truncation: FASTER's devices ignore this too
        }
    }

    public override long GetFileSize(int segment)
        => segmentSize > 0 ? segmentSize : RandomAccess.GetLength(HandleFor(segment));

    public override void Reset()
    {
        foreach (int segment in _handles.Keys)
        {
            if (_handles.TryRemove(segment, out var handle))
            {
                handle.Dispose();
            }
        }
    }

    public override void Dispose()
    {
        _disposed = true;
        Reset();
    }

    private sealed class IoRequest(SegmentFileDevice device) : IThreadPoolWorkItem
    {
        public bool Write { get; private set; }

        public int Segment { get; private set; }

        public IntPtr Memory { get; private set; }

        public ulong FileOffset { get; private set; }

        public uint Length { get; private set; }

        public DeviceIOCompletionCallback? Callback { get; private set; }

        public object? Context { get; private set; }

        public void Set(bool write, int segment, IntPtr memory, ulong fileOffset, uint length, DeviceIOCompletionCallback callback, object context)
        {
            Write = write;
            Segment = segment;
            Memory = memory;
            FileOffset = fileOffset;
            Length = length;
            Callback = callback;
            Context = context;
        }

        public void Clear()
        {
            Callback = null;
            Context = null;
        }

        public void Execute() => device.Execute(this);
    }
}
