namespace Broker.Protocols.Amqp.Server;

/// <summary>Decides what the peer's attaches connect to: the protocol-neutral engine's one application hook for links.</summary>
public interface IAmqpLinkHandler
{
    /// <summary>
    /// Called for each attach from the peer (<see cref="AmqpLink.Role"/> is this side's role). Refusing answers with a
    /// null terminus and a detach carrying the condition.
    /// </summary>
    ValueTask<AmqpLinkDecision> OnAttachAsync(AmqpLink link, CancellationToken cancellationToken);

    /// <summary>Called once the connection is gone, after every link's <see cref="IAmqpLinkEndpoint.OnDetached"/>.</summary>
    void OnConnectionClosed(AmqpConnectionInfo connection)
    {
    }
}
