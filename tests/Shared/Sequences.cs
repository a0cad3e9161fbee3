using System.Buffers;

namespace Broker.Testing;

/// <summary>Builds multi-segment sequences; each segment gets its own array so that no read can run across.</summary>
internal static class Sequences
{
    /// <summary>Splits <paramref name="data"/> at the ascending <paramref name="cuts"/> (equal cuts give empty segments).</summary>
    public static ReadOnlySequence<byte> Split(ReadOnlySpan<byte> data, params ReadOnlySpan<int> cuts)
    {
        TestSegment? first = null;
        TestSegment? last = null;
        int start = 0;
        for (int i = 0; i <= cuts.Length; i++)
        {
            int end = i < cuts.Length ? cuts[i] : data.Length;
            byte[] chunk = data[start..end].ToArray();
            last = last is null ? first = new TestSegment(chunk, 0) : last.Append(chunk);
            start = end;
        }

        return new ReadOnlySequence<byte>(first!, 0, last!, last!.Memory.Length);
    }

    /// <summary>One segment per byte.</summary>
    public static ReadOnlySequence<byte> OneBytePerSegment(ReadOnlySpan<byte> data)
    {
        if (data.IsEmpty)
        {
            return ReadOnlySequence<byte>.Empty;
        }

        int[] cuts = Enumerable.Range(1, data.Length - 1).ToArray();
        return Split(data, cuts);
    }

    /// <summary>Builds a sequence from already separate chunks.</summary>
    public static ReadOnlySequence<byte> FromChunks(IReadOnlyList<byte[]> chunks)
    {
        if (chunks.Count == 0)
        {
            return ReadOnlySequence<byte>.Empty;
        }

        var first = new TestSegment(chunks[0], 0);
        TestSegment last = first;
        for (int i = 1; i < chunks.Count; i++)
        {
            last = last.Append(chunks[i]);
        }

        return new ReadOnlySequence<byte>(first, 0, last, last.Memory.Length);
    }
}
