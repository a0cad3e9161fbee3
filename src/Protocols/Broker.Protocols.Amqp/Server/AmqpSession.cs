namespace Broker.Protocols.Amqp.Server;

/// <summary>A session's state (§2.5.6): windows, transfer and delivery counters, links by handle.</summary>
internal sealed class AmqpSession
{
    public AmqpSession(ushort channel) => Channel = channel;

    /// <summary>The channel, the same number on both sides.</summary>
    public ushort Channel { get; }

    public uint NextIncomingId { get; set; }

    public uint IncomingWindow { get; set; }

    public uint NextOutgoingId { get; set; } = 1;

    public uint NextDeliveryId { get; set; }

    public uint RemoteIncomingWindow { get; set; }

    public Dictionary<uint, AmqpLink> Links { get; } = [];

    /// <summary>Deliveries this side sent unsettled, by delivery id.</summary>
    public Dictionary<uint, AmqpLink> UnsettledOutgoing { get; } = [];
}
