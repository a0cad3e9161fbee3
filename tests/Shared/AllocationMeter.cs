namespace Broker.Testing;

/// <summary>
/// Measures bytes allocated per call on the calling thread the way BenchmarkDotNet reports "Allocated": after a warm-up
/// long enough for tiered compilation to settle, over many calls, rounded to the nearest byte. A single call that
/// allocates on every invocation shows up as at least 1 B; a one-off runtime allocation (a tier-1 rejit, a type load)
/// spread over thousands of calls does not, so an exact "allocates nothing" check stays exact without being flaky.
/// </summary>
internal static class AllocationMeter
{
    private const int WarmUpCalls = 2_000;
    private const int MeasuredCalls = 10_000;

    public static long BytesPerCall(Action call)
    {
        for (int i = 0; i < WarmUpCalls; i++)
        {
            call();
        }

        long before = GC.GetAllocatedBytesForCurrentThread();
        for (int i = 0; i < MeasuredCalls; i++)
        {
            call();
        }

        long allocated = GC.GetAllocatedBytesForCurrentThread() - before;
        return (long)Math.Round(allocated / (double)MeasuredCalls, MidpointRounding.ToEven);
    }
}
