using FASTER.core;

namespace Broker.Storage.Faster.Recovery;

/// <summary>
/// Reads a committed log range record by record and finds the first torn or corrupt record: a record whose
/// checksum fails, a length FASTER cannot frame, or a jump to the next page that page padding cannot explain
/// (zeroed bytes from a short segment file look like padding to FASTER).
/// </summary>
internal static class LogScanner
{
    public static unsafe LogScanResult Scan(FasterLog log, long from, long until, int pageSizeBits, IRecordVisitor visitor)
    {
        long pageSize = 1L << pageSizeBits;
        long expected = from;
        long records = 0;
        if (from >= until)
        {
            return new LogScanResult(from, -1, null, 0);
        }

        using var iterator = log.Scan(from, until, scanBufferingMode: ScanBufferingMode.DoublePageBuffering);
        while (true)
        {
            byte* entry;
            int length;
            long current;
            long next;
            try
            {
                if (!iterator.UnsafeGetNext(out entry, out length, out current, out next))
                {
                    break;
                }
            }
            catch (FasterException ex)
            {
                return new LogScanResult(expected, expected, ex.Message, records);
            }

            try
            {
                if (current != expected && !IsPagePadding(expected, current, length, log.HeaderSize, pageSize))
                {
                    return new LogScanResult(expected, expected, $"unexplained gap up to address {current}", records);
                }

                if (length <= 0 || !visitor.Visit(new ReadOnlySpan<byte>(entry, length), current, next))
                {
                    return new LogScanResult(current, current, "checksum or framing mismatch", records);
                }
            }
            finally
            {
                iterator.UnsafeRelease();
            }

            records++;
            expected = next;
        }

        // A tail committed right after FASTER moved to a fresh page leaves padding up to that page start.
        bool paddingToPageStart = until % pageSize == 0 && expected > until - pageSize;
        return expected >= until || paddingToPageStart
            ? new LogScanResult(expected, -1, null, records)
            : new LogScanResult(expected, expected, $"committed data ends early (expected up to {until})", records);
    }

    /// <summary>FASTER moves a record that does not fit in the rest of a page to the next page's start.</summary>
    private static bool IsPagePadding(long expected, long current, int length, int headerSize, long pageSize)
    {
        long nextPage = ((expected / pageSize) + 1) * pageSize;
        long remaining = nextPage - expected;
        long recordSize = headerSize + ((length + 3) & ~3L);
        return current == nextPage && recordSize > remaining;
    }
}
