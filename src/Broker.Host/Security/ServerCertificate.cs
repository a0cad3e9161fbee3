using System.Security.Cryptography.X509Certificates;

namespace Broker.Host.Security;

/// <summary>The TLS listeners' certificate with its private key, the intermediates to send with it and, when the broker made it, its CA.</summary>
internal sealed class ServerCertificate : IDisposable
{
    public ServerCertificate(X509Certificate2 certificate, X509Certificate2Collection intermediates, string? authorityPath)
    {
        Certificate = certificate;
        Intermediates = intermediates;
        AuthorityPath = authorityPath;
    }

    /// <summary>The server certificate, with its private key.</summary>
    public X509Certificate2 Certificate { get; }

    /// <summary>Certificates between the server certificate and the root, sent in the handshake.</summary>
    public X509Certificate2Collection Intermediates { get; }

    /// <summary>The PEM file of the broker's own CA, which clients trust; null for a configured certificate.</summary>
    public string? AuthorityPath { get; }

    public void Dispose()
    {
        Certificate.Dispose();
        foreach (var intermediate in Intermediates)
        {
            intermediate.Dispose();
        }
    }
}
