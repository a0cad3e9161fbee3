namespace Broker.Storage.Faster.Events;

/// <summary>
/// A sparse, in-memory index of the events log: the address and enqueued time of the first event of each page.
/// It answers "where does time T start" with a binary search and a short scan, and tells retention where to cut.
/// </summary>
internal sealed class PageTimeIndex
{
    private readonly Lock _lock = new();
    private readonly List<(long Address, long Ticks)> _entries = [];
    private readonly int _pageSizeBits;
    private long _lastPage = -1;

    public PageTimeIndex(int pageSizeBits) => _pageSizeBits = pageSizeBits;

    public void OnAppend(long address, long ticks)
    {
        long page = address >> _pageSizeBits;
        if (page == _lastPage)
        {
            return;
        }

        lock (_lock)
        {
            _entries.Add((address, ticks));
            _lastPage = page;
        }
    }

    /// <summary>The address of the last indexed event enqueued before <paramref name="ticks"/>, or -1.</summary>
    public long StartBefore(long ticks)
    {
        lock (_lock)
        {
            int low = 0;
            int high = _entries.Count - 1;
            long found = -1;
            while (low <= high)
            {
                int mid = (low + high) >>> 1;
                if (_entries[mid].Ticks < ticks)
                {
                    found = _entries[mid].Address;
                    low = mid + 1;
                }
                else
                {
                    high = mid - 1;
                }
            }

            return found;
        }
    }

    public void RemoveBelow(long address)
    {
        lock (_lock)
        {
            int keep = _entries.FindIndex(e => e.Address >= address);
            _entries.RemoveRange(0, keep < 0 ? _entries.Count : keep);
        }
    }
}
