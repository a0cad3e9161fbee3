using System.Security.Cryptography.X509Certificates;
using System.Text;

namespace Broker.Protocols.Amqp.Server;

/// <summary>A client's sasl-init, for <see cref="IAmqpSaslAuthenticator"/>.</summary>
public sealed class AmqpSaslRequest
{
    internal AmqpSaslRequest(string mechanism, byte[] initialResponse, string? hostname, X509Certificate2? clientCertificate)
    {
        Mechanism = mechanism;
        InitialResponse = initialResponse;
        Hostname = hostname;
        ClientCertificate = clientCertificate;
    }

    /// <summary>PLAIN, ANONYMOUS, EXTERNAL or another offered mechanism.</summary>
    public string Mechanism { get; }

    public ReadOnlyMemory<byte> InitialResponse { get; }

    public string? Hostname { get; }

    public X509Certificate2? ClientCertificate { get; }

    /// <summary>Splits a PLAIN response (<c>authzid \0 authcid \0 passwd</c>, RFC 4616).</summary>
    public bool TryGetPlainCredentials(out string userName, out string password)
    {
        userName = string.Empty;
        password = string.Empty;
        ReadOnlySpan<byte> response = InitialResponse.Span;
        int first = response.IndexOf((byte)0);
        if (first < 0)
        {
            return false;
        }

        int second = response[(first + 1)..].IndexOf((byte)0);
        if (second < 0)
        {
            return false;
        }

        userName = Encoding.UTF8.GetString(response.Slice(first + 1, second));
        password = Encoding.UTF8.GetString(response[(first + 2 + second)..]);
        return userName.Length > 0;
    }
}
