using System.Numerics;
using System.Reflection;
using System.Runtime.InteropServices;
using FASTER.core;

namespace Broker.Storage.Faster.Commit;

/// <summary>
/// Writes the committed part of a FasterLog's tail page straight from FASTER's page memory, so that a group commit
/// needs neither FASTER's commit nor its page flush. FASTER 2.6.5 has no public flush that is not a commit; its commit
/// allocates about 1.3 KB per call (metadata streams and arrays, a <c>TaskCompletionSource</c>, the commit worker's
/// <c>Task.Run</c>) and its partial-page flush another 0.4 KB (flush results, completion delegates, epoch closures),
/// with two thread-pool hops, once per group commit, which made them the broker's last allocations per message.
/// <para>
/// Only the tail page is written here. FASTER still writes every page once the tail leaves it (its read-only address
/// follows the tail page by page), rewriting these same bytes with the rest of the page; its bookkeeping
/// (flushed-until address, eviction) is left to it. The bytes are copied out of the page under epoch protection
/// (eviction waits for the epoch) and written after leaving it: holding the epoch through a disk write would make an
/// appender that turns a page spin in FASTER's allocator, allocating on every retry, for as long as the write takes.
/// </para>
/// </summary>
internal sealed unsafe class TailPageWriter : IDisposable
{
    private const int SectorSize = 512;

    private static readonly FieldInfo AllocatorField = typeof(FasterLog).GetField("allocator", BindingFlags.NonPublic | BindingFlags.Instance)
        ?? throw new InvalidOperationException("FasterLog.allocator was not found (FASTER 2.6.5 has it)");

    private static readonly FieldInfo EpochField = typeof(FasterLog).GetField("epoch", BindingFlags.NonPublic | BindingFlags.Instance)
        ?? throw new InvalidOperationException("FasterLog.epoch was not found (FASTER 2.6.5 has it)");

    private static readonly MethodInfo PhysicalAddressMethod =
        AllocatorField.FieldType.GetMethod("GetPhysicalAddress", BindingFlags.Public | BindingFlags.Instance, [typeof(long)])
        ?? throw new InvalidOperationException("BlittableAllocator.GetPhysicalAddress(long) was not found (FASTER 2.6.5 has it)");

    private static readonly MethodInfo ShiftHeadAddressMethod =
        AllocatorField.FieldType.GetMethod("ShiftHeadAddress", BindingFlags.Public | BindingFlags.Instance, [typeof(long)])
        ?? throw new InvalidOperationException("AllocatorBase.ShiftHeadAddress(long) was not found (FASTER 2.6.5 has it)");

    private readonly LightEpoch _epoch;
    private readonly Func<long, long> _shiftHeadAddress;
    private readonly int _bufferPages;
    private long _evictedForPage = -1;
    private readonly Func<long, long> _physicalAddress;
    private readonly SegmentFileDevice _device;
    private readonly int _pageSizeBits;
    private readonly int _segmentSizeBits;
    private byte* _buffer; // sector-aligned copy of the range being written, grown to at most a page
    private int _capacity;

    public TailPageWriter(FasterLog log, SegmentFileDevice device, int pageSizeBits, int memorySizeBits, int segmentSizeBits)
    {
        _epoch = (LightEpoch)(EpochField.GetValue(log) ?? throw new InvalidOperationException("FasterLog has no epoch"));
        object allocator = AllocatorField.GetValue(log) ?? throw new InvalidOperationException("FasterLog has no allocator");
        _physicalAddress = PhysicalAddressMethod.CreateDelegate<Func<long, long>>(allocator);
        _shiftHeadAddress = ShiftHeadAddressMethod.CreateDelegate<Func<long, long>>(allocator);
        _bufferPages = 1 << (memorySizeBits - pageSizeBits);
        _device = device;
        _pageSizeBits = pageSizeBits;
        _segmentSizeBits = segmentSizeBits;
    }

    /// <summary>The start of the page that holds the byte just below <paramref name="until"/>.</summary>
    public long PageStartBelow(long until) => (until - 1) & ~((1L << _pageSizeBits) - 1);

    /// <summary>
    /// Once per tail page, evicts the page whose buffer slot the next page will take (it was flushed long ago), as
    /// FASTER would only when an append overflows into that next page. Eviction clears the whole page and FASTER's
    /// allocator spins (allocating two closures a turn) until it is done; done here, on the commit thread, appenders
    /// find the slot free. One closure per page, none per commit.
    /// </summary>
    public void EvictAhead(long tailPageStart)
    {
        long page = tailPageStart >> _pageSizeBits;
        if (page <= _evictedForPage || page + 2 - _bufferPages <= 0)
        {
            return;
        }

        _evictedForPage = page;
        _epoch.Resume();
        try
        {
            _shiftHeadAddress((page + 2 - _bufferPages) << _pageSizeBits); // capped by FASTER at what is flushed
        }
        finally
        {
            _epoch.Suspend(); // runs the eviction now if no other thread is inside the epoch
        }
    }

    /// <summary>
    /// Lets FASTER run page flushes that wait for the epoch to move on (they run on the next thread that leaves it).
    /// </summary>
    public void Refresh()
    {
        _epoch.Resume();
        _epoch.Suspend();
    }

    /// <summary>
    /// Writes <paramref name="from"/>..<paramref name="until"/> (inside one page; the start widened down to a sector)
    /// with one synchronous write-through write. Every record below <paramref name="until"/> must be fully appended.
    /// Nothing at or past <paramref name="until"/> is written: those bytes may still be changing, and FASTER may
    /// already have written them with the whole page (it flushes the page once the tail leaves it, possibly while this
    /// write is in flight), so writing them here could put stale bytes over records committed after this one.
    /// </summary>
    public void Write(long from, long until)
    {
        long start = from & ~(SectorSize - 1L);
        long end = until;
        if ((start >> _pageSizeBits) != ((end - 1) >> _pageSizeBits))
        {
            throw new InvalidOperationException($"The range {from}..{until} is not inside one page");
        }

        int length = (int)(end - start);
        EnsureCapacity(length);
        _epoch.Resume();
        try
        {
            Buffer.MemoryCopy((void*)_physicalAddress(start), _buffer, _capacity, length);
        }
        finally
        {
            _epoch.Suspend();
        }

        _device.WriteThrough((int)(start >> _segmentSizeBits), start & ((1L << _segmentSizeBits) - 1), new ReadOnlySpan<byte>(_buffer, length));
    }

    private void EnsureCapacity(int length)
    {
        if (length <= _capacity)
        {
            return;
        }

        int capacity = Math.Min(1 << _pageSizeBits, Math.Max(64 * 1024, (int)BitOperations.RoundUpToPowerOf2((uint)length)));
        NativeMemory.AlignedFree(_buffer);
        _buffer = null;
        _capacity = 0;
        _buffer = (byte*)NativeMemory.AlignedAlloc((nuint)capacity, 4096);
        _capacity = capacity;
    }

    public void Dispose()
    {
        NativeMemory.AlignedFree(_buffer);
        _buffer = null;
        _capacity = 0;
    }
}
