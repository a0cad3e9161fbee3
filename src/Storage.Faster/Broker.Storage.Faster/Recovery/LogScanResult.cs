namespace Broker.Storage.Faster.Recovery;

/// <summary>The outcome of reading a log range record by record.</summary>
/// <param name="EndAddress">Where the last good record ends.</param>
/// <param name="CorruptAt">The address of the first bad record, or -1 when everything read cleanly.</param>
/// <param name="Reason">Why the record at <paramref name="CorruptAt"/> is bad.</param>
/// <param name="Records">How many good records were read.</param>
internal readonly record struct LogScanResult(long EndAddress, long CorruptAt, string? Reason, long Records)
{
    public bool Clean => CorruptAt < 0;
}
