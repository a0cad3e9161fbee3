using Broker.Protocols.Amqp.Codec;

namespace Broker.Protocols.Amqp.Server;

/// <summary>How a delivery ends: accepted, rejected (with an error condition), released or modified.</summary>
public readonly record struct AmqpOutcome(AmqpDeliveryStateKind Kind, string? Condition = null, string? Description = null)
{
    public static AmqpOutcome Accepted => new(AmqpDeliveryStateKind.Accepted);

    public static AmqpOutcome Released => new(AmqpDeliveryStateKind.Released);

    public static AmqpOutcome Modified => new(AmqpDeliveryStateKind.Modified);

    public static AmqpOutcome Rejected(string condition, string? description = null) => new(AmqpDeliveryStateKind.Rejected, condition, description);
}
