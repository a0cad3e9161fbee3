namespace Broker.Protocols.Amqp.Server;

/// <summary>Decides SASL exchanges (PLAIN, ANONYMOUS, EXTERNAL...) for the connection engine.</summary>
public interface IAmqpSaslAuthenticator
{
    /// <summary>
    /// Authenticates a sasl-init; returns the identity to record, or null to refuse (the client gets outcome
    /// <c>auth</c> and the connection closes).
    /// </summary>
    ValueTask<string?> AuthenticateAsync(AmqpSaslRequest request, AmqpConnectionInfo connection, CancellationToken cancellationToken);
}
