using System.Buffers;

namespace Broker.Protocols.Mqtt.Tests.Support;

/// <summary>
/// An <see cref="IBufferWriter{T}"/> that hands out spans no larger than it must (at least the size hint, at most
/// <c>chunkSize</c> otherwise), like a pipe near the end of a block; keeps each Advance as a separate chunk.
/// </summary>
internal sealed class ChunkingBufferWriter : IBufferWriter<byte>
{
    private readonly int _chunkSize;
    private readonly List<byte[]> _chunks = [];
    private byte[] _current = [];

    public ChunkingBufferWriter(int chunkSize) => _chunkSize = chunkSize;

    public IReadOnlyList<byte[]> Chunks => _chunks;

    public byte[] ToArray() => _chunks.SelectMany(chunk => chunk).ToArray();

    public void Advance(int count)
    {
        Assert.InRange(count, 0, _current.Length);
        _chunks.Add(_current[..count]);
        _current = [];
    }

    public Memory<byte> GetMemory(int sizeHint = 0)
    {
        _current = new byte[Math.Max(sizeHint, _chunkSize)];
        return _current;
    }

    public Span<byte> GetSpan(int sizeHint = 0) => GetMemory(sizeHint).Span;
}
