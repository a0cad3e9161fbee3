using System.Buffers;

namespace Broker.Protocols.Amqp.Server;

/// <summary>
/// The application side of an attached link. Callbacks run on the connection's read loop: keep them short and do not
/// block; settle and send from any thread.
/// </summary>
public interface IAmqpLinkEndpoint
{
    /// <summary>A whole message arrived on a link the peer sends on; <paramref name="message"/> is valid only during the call.</summary>
    void OnMessage(AmqpLink link, AmqpIncomingDelivery delivery, in ReadOnlySequence<byte> message)
    {
    }

    /// <summary>The peer granted credit on a link we send on.</summary>
    void OnCredit(AmqpLink link)
    {
    }

    /// <summary>The peer settled or updated a delivery we sent.</summary>
    void OnOutcome(AmqpLink link, uint deliveryId, AmqpOutcome outcome)
    {
    }

    /// <summary>The link is gone (detached by either side, or its session or connection ended).</summary>
    void OnDetached(AmqpLink link)
    {
    }
}
