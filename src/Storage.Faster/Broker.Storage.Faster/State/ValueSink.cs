using System.Buffers;

namespace Broker.Storage.Faster.State;

/// <summary>Where a read copies the value it finds.</summary>
internal struct ValueSink
{
    public IBufferWriter<byte>? Writer;
    public bool Found;
}
