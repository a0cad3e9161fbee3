using System.Buffers;

namespace Broker.Protocols.Amqp.Codec;

/// <summary>
/// A frame body as one span: the first segment itself when the body lies in it (the usual case), else a copy in a
/// buffer rented from the shared pool, returned by <see cref="Dispose"/>.
/// </summary>
public ref struct AmqpContiguousBuffer
{
    private byte[]? _rented;

    public AmqpContiguousBuffer(in ReadOnlySequence<byte> sequence)
    {
        if (sequence.IsSingleSegment)
        {
            Span = sequence.FirstSpan;
            return;
        }

        int length = checked((int)sequence.Length);
        _rented = ArrayPool<byte>.Shared.Rent(length);
        sequence.CopyTo(_rented);
        Span = _rented.AsSpan(0, length);
    }

    /// <summary>The bytes.</summary>
    public ReadOnlySpan<byte> Span { get; private set; }

    /// <summary>Whether the bytes had to be copied.</summary>
    public readonly bool IsCopy => _rented is not null;

    public void Dispose()
    {
        if (_rented is not null)
        {
            ArrayPool<byte>.Shared.Return(_rented);
            _rented = null;
            Span = default;
        }
    }
}
