using System.Numerics;

namespace Broker.LoadGenerator;

/// <summary>
/// A log-linear histogram of nanosecond values in the spirit of HdrHistogram: values below 128 have their own
/// bucket, larger ones 64 sub-buckets per power of two (at most 1.6 % error). Recording is an index computation
/// and an increment, so the ack path allocates nothing. One writer per instance; merge after the run.
/// </summary>
internal sealed class LatencyHistogram
{
    private const int SubBucketBits = 6;
    private const int SubBuckets = 1 << SubBucketBits;
    private const int LinearLimit = 2 * SubBuckets;

    // Up to 2^41 ns (about 36 minutes) in the last magnitude; longer values are clamped into it.
    private const int MaxMagnitude = 40;
    private const int BucketCount = LinearLimit + ((MaxMagnitude - SubBucketBits) * SubBuckets);

    private readonly long[] _counts = new long[BucketCount];

    public long Count { get; private set; }

    public long Max { get; private set; }

    public void Record(long nanoseconds)
    {
        var value = Math.Max(0, nanoseconds);
        _counts[IndexOf(value)]++;
        Count++;
        if (value > Max)
        {
            Max = value;
        }
    }

    public void Add(LatencyHistogram other)
    {
        ArgumentNullException.ThrowIfNull(other);
        for (var i = 0; i < _counts.Length; i++)
        {
            _counts[i] += other._counts[i];
        }

        Count += other.Count;
        Max = Math.Max(Max, other.Max);
    }

    /// <summary>The value at <paramref name="percentile"/> (0-100): the upper edge of its bucket, capped at the maximum seen.</summary>
    public long ValueAt(double percentile)
    {
        if (Count == 0)
        {
            return 0;
        }

        var rank = (long)Math.Ceiling(percentile / 100 * Count);
        rank = Math.Clamp(rank, 1, Count);
        long seen = 0;
        for (var i = 0; i < _counts.Length; i++)
        {
            seen += _counts[i];
            if (seen >= rank)
            {
                return Math.Min(UpperEdgeOf(i), Max);
            }
        }

        return Max;
    }

    private static int IndexOf(long value)
    {
        if (value < LinearLimit)
        {
            return (int)value;
        }

        var magnitude = Math.Min(63 - BitOperations.LeadingZeroCount((ulong)value), MaxMagnitude);
        var shift = magnitude - SubBucketBits;
        var sub = (int)Math.Min(value >> shift, (2 * SubBuckets) - 1);
        return LinearLimit + ((magnitude - SubBucketBits - 1) * SubBuckets) + (sub - SubBuckets);
    }

    private static long UpperEdgeOf(int index)
    {
        if (index < LinearLimit)
        {
            return index;
        }

        var offset = index - LinearLimit;
        var magnitude = (offset / SubBuckets) + SubBucketBits + 1;
        var sub = (offset % SubBuckets) + SubBuckets;
        var shift = magnitude - SubBucketBits;
        return ((long)(sub + 1) << shift) - 1;
    }
}
