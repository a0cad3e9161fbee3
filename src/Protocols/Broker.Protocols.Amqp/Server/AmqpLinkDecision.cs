namespace Broker.Protocols.Amqp.Server;

/// <summary>The answer to an attach: an endpoint, or a refusal with an AMQP error condition.</summary>
public readonly record struct AmqpLinkDecision(IAmqpLinkEndpoint? Endpoint, string? Condition, string? Description)
{
    public static AmqpLinkDecision Accept(IAmqpLinkEndpoint endpoint) => new(endpoint ?? throw new ArgumentNullException(nameof(endpoint)), null, null);

    public static AmqpLinkDecision Refuse(string condition, string? description = null) => new(null, condition, description);
}
