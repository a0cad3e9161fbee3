namespace Broker.Storage.Faster.Recovery;

/// <summary>Checks and consumes records while a log is verified or replayed.</summary>
internal interface IRecordVisitor
{
    /// <summary>False when the record's framing or checksum is wrong.</summary>
    bool Visit(ReadOnlySpan<byte> record, long address, long nextAddress);
}
