namespace Broker.Protocols.Amqp.Codec;

/// <summary>Which delivery state (§3.4) a disposition or transfer carries.</summary>
public enum AmqpDeliveryStateKind : byte
{
    /// <summary>No state (the field was null or absent).</summary>
    None,
    Received,
    Accepted,
    Rejected,
    Released,
    Modified,

    /// <summary>A state this codec does not model (a transactional state...); kept as its encoding.</summary>
    Other,
}
