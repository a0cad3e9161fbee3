using Broker.Core.Storage;
using FASTER.core;

namespace Broker.Storage.Faster.State;

/// <summary>Pushes the live records whose stored key starts with a prefix to a visitor.</summary>
internal struct PrefixScan : IScanIteratorFunctions<SpanByte, SpanByte>
{
    private readonly byte[] _prefix;
    private readonly IStateVisitor _visitor;

    public PrefixScan(byte[] prefix, IStateVisitor visitor)
    {
        _prefix = prefix;
        _visitor = visitor;
    }

    public readonly bool OnStart(long beginAddress, long endAddress) => true;

    public readonly bool SingleReader(ref SpanByte key, ref SpanByte value, RecordMetadata recordMetadata, long numberOfRecords)
    {
        var stored = key.AsReadOnlySpan();
        return !stored.StartsWith(_prefix) || _visitor.Visit(stored[1..], value.AsReadOnlySpan());
    }

    public readonly bool ConcurrentReader(ref SpanByte key, ref SpanByte value, RecordMetadata recordMetadata, long numberOfRecords)
        => SingleReader(ref key, ref value, recordMetadata, numberOfRecords);

    public readonly void OnException(Exception exception, long numberOfRecords)
    {
    }

    public readonly void OnStop(bool completed, long numberOfRecords)
    {
    }
}
