using System.Buffers;
using Broker.Protocols.Amqp.Codec;

namespace Broker.Protocols.Amqp.Server;

/// <summary>
/// One attached link, as the application sees it: what the peer asked for, and the calls to send on it (when this
/// side is the sender), settle what it received, or detach it. Safe to use from any thread.
/// </summary>
public sealed class AmqpLink
{
    private readonly AmqpConnection _connection;

    internal AmqpLink(AmqpConnection connection, AmqpSession session, uint handle, string name, AmqpRole role)
    {
        _connection = connection;
        Session = session;
        Handle = handle;
        Name = name;
        Role = role;
    }

    /// <summary>The connection's identity and peer.</summary>
    public AmqpConnectionInfo Connection => _connection.Info;

    public string Name { get; }

    /// <summary>The handle (the same number on both sides).</summary>
    public uint Handle { get; }

    /// <summary>This side's role: <see cref="AmqpRole.Receiver"/> when the peer sends on the link.</summary>
    public AmqpRole Role { get; }

    public string? SourceAddress { get; internal set; }

    public string? TargetAddress { get; internal set; }

    public AmqpSenderSettleMode SndSettleMode { get; internal set; }

    public AmqpReceiverSettleMode RcvSettleMode { get; internal set; }

    /// <summary>The attach's properties map (encoded; read it with <see cref="AmqpMap"/>), or empty.</summary>
    public ReadOnlyMemory<byte> Properties { get; internal set; }

    /// <summary>The largest message the peer accepts, when it said.</summary>
    public ulong? PeerMaxMessageSize { get; internal set; }

    /// <summary>The credit this side has left: deliveries it may still send (sender) or expects (receiver).</summary>
    public uint Credit => _connection.GetCredit(this);

    /// <summary>
    /// Whether the engine keeps topping up the credit of a link the peer sends on (to <see cref="AmqpServerOptions.LinkCredit"/>,
    /// as messages arrive). Set it to false in <see cref="IAmqpLinkHandler.OnAttachAsync"/> to grant credit with
    /// <see cref="GrantCredit"/> instead, and so withhold it when the hub cannot take more.
    /// </summary>
    public bool AutoCredit { get; set; } = true;

    /// <summary>Whether the link is attached.</summary>
    public bool IsAttached => State == LinkState.Attached;

    internal AmqpSession Session { get; }

    internal IAmqpLinkEndpoint? Endpoint { get; set; }

    internal LinkState State { get; set; }

    internal uint LinkCredit { get; set; }

    internal uint DeliveryCount { get; set; }

    internal bool Drain { get; set; }

    internal byte[]? SourceEncoded { get; set; }

    internal byte[]? TargetEncoded { get; set; }

    // A delivery arriving in several transfers.
    internal bool Assembling { get; set; }

    internal AmqpIncomingDelivery Current { get; set; }

    internal ArrayBufferWriter<byte>? Assembly { get; set; }

    /// <summary>
    /// Sends a message (its encoded sections) as one delivery, split into as many transfers as the peer's frame size
    /// needs. False, sending nothing, when there is no credit, no session window or too much output queued.
    /// </summary>
    public bool TrySend(ReadOnlySpan<byte> message, ReadOnlySpan<byte> deliveryTag, out uint deliveryId, bool settled = false, uint messageFormat = AmqpMessageFormat.Standard)
        => _connection.TrySend(this, message, deliveryTag, settled, messageFormat, out deliveryId);

    /// <summary>Sets the credit of a link the peer sends on (the deliveries it may send from now) and tells the peer.</summary>
    public void GrantCredit(uint credit) => _connection.GrantCredit(this, credit);

    /// <summary>Settles a delivery received on this link with <paramref name="outcome"/>.</summary>
    public void Settle(uint deliveryId, AmqpOutcome outcome) => _connection.Settle(this, deliveryId, outcome);

    /// <summary>Settles <paramref name="delivery"/> with <paramref name="outcome"/>, unless the peer sent it pre-settled (nothing to answer then).</summary>
    public void Settle(in AmqpIncomingDelivery delivery, AmqpOutcome outcome)
    {
        if (!delivery.Settled)
        {
            Settle(delivery.DeliveryId, outcome);
        }
    }

    /// <summary>Detaches (closes) the link, with an error condition when given.</summary>
    public void Detach(string? condition = null, string? description = null) => _connection.DetachLocal(this, condition, description);

    internal enum LinkState : byte
    {
        Attaching,
        Attached,
        DetachSent,
        Detached,
    }
}
