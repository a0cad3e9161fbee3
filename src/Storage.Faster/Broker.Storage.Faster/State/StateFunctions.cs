using FASTER.core;

namespace Broker.Storage.Faster.State;

/// <summary>FASTER callbacks for the state KV: values are copied straight into the reader's buffer.</summary>
internal sealed class StateFunctions : SpanByteFunctions<SpanByte, ValueSink, Empty>
{
    public override bool SingleReader(ref SpanByte key, ref SpanByte input, ref SpanByte value, ref ValueSink dst, ref ReadInfo readInfo)
        => Copy(ref value, ref dst);

    public override bool ConcurrentReader(ref SpanByte key, ref SpanByte input, ref SpanByte value, ref ValueSink dst, ref ReadInfo readInfo)
        => Copy(ref value, ref dst);

    private static bool Copy(ref SpanByte value, ref ValueSink dst)
    {
        var source = value.AsReadOnlySpan();
        if (dst.Writer is { } writer)
        {
            source.CopyTo(writer.GetSpan(source.Length));
            writer.Advance(source.Length);
        }

        dst.Found = true;
        return true;
    }
}
