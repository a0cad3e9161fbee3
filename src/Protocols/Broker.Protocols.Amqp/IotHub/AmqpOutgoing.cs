using Broker.Protocols.Amqp.Codec;
using Broker.Protocols.Amqp.Server;

namespace Broker.Protocols.Amqp.IotHub;

/// <summary>
/// A link the hub sends on, with a small bounded queue for messages that find no credit: replies (CBS, twin) and
/// requests (methods) go out in order as the peer grants credit. Deliveries are pre-settled when the link allows it.
/// </summary>
internal sealed class AmqpOutgoing
{
    private const int MaxQueued = 128;

    private readonly Lock _lock = new();
    private readonly Queue<byte[]> _queue = new();
    private long _nextTag;

    public AmqpOutgoing(AmqpLink link) => Link = link;

    public AmqpLink Link { get; }

    private bool Settled => Link.SndSettleMode != AmqpSenderSettleMode.Unsettled;

    /// <summary>Sends <paramref name="message"/> or queues a copy; false when the queue is full or the link gone.</summary>
    public bool Send(ReadOnlySpan<byte> message)
    {
        lock (_lock)
        {
            if (!Link.IsAttached)
            {
                return false;
            }

            if (_queue.Count == 0 && TrySend(message))
            {
                return true;
            }

            if (_queue.Count >= MaxQueued)
            {
                return false;
            }

            _queue.Enqueue(message.ToArray());
            return true;
        }
    }

    /// <summary>The peer granted credit: sends what waited.</summary>
    public void Flush()
    {
        lock (_lock)
        {
            while (_queue.Count > 0 && TrySend(_queue.Peek()))
            {
                _queue.Dequeue();
            }
        }
    }

    private bool TrySend(ReadOnlySpan<byte> message)
    {
        Span<byte> tag = stackalloc byte[8];
        BitConverter.TryWriteBytes(tag, ++_nextTag);
        return Link.TrySend(message, tag, out _, Settled);
    }
}
