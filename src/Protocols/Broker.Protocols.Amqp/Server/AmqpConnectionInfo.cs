using System.Security.Cryptography.X509Certificates;

namespace Broker.Protocols.Amqp.Server;

/// <summary>What the engine knows about a connection, for the SASL and link hooks.</summary>
public sealed class AmqpConnectionInfo
{
    internal AmqpConnectionInfo(string remoteEndPoint, X509Certificate2? clientCertificate)
    {
        RemoteEndPoint = remoteEndPoint;
        ClientCertificate = clientCertificate;
    }

    public string RemoteEndPoint { get; }

    /// <summary>The TLS client certificate, if any (X.509 devices; SASL EXTERNAL).</summary>
    public X509Certificate2? ClientCertificate { get; }

    /// <summary>The SASL mechanism the client authenticated with; null without SASL.</summary>
    public string? SaslMechanism { get; internal set; }

    /// <summary>The identity the authenticator accepted (the PLAIN user name, for instance).</summary>
    public string? SaslIdentity { get; internal set; }

    /// <summary>The peer's container id, from its open.</summary>
    public string? ContainerId { get; internal set; }

    /// <summary>The host name the peer asked for in its open.</summary>
    public string? Hostname { get; internal set; }

    /// <summary>The application's state for this connection (set by the SASL authenticator or link handler).</summary>
    public object? ApplicationState { get; set; }
}
