using Broker.Storage.Faster;

namespace Broker.Benchmarks;

/// <summary>
/// FASTER allocates each in-memory page of the events log on its first use; a pipeline benchmark first turns the whole
/// buffer over twice, so that what BenchmarkDotNet measures is the steady state.
/// </summary>
internal static class EventsLogWarmUp
{
    /// <summary>Batches of <paramref name="messages"/> × <paramref name="payloadBytes"/> that fill the default events log's memory twice.</summary>
    public static long Batches(int payloadBytes, int messages)
        => (2 * (1L << new FasterStoreOptions().EventsLog.MemorySizeBits) / ((long)payloadBytes * messages)) + 1;
}
