using System.Net;
using System.Net.Security;
using System.Net.Sockets;
using System.Security.Cryptography.X509Certificates;

namespace Broker.Host.Tests.Support;

/// <summary>TLS client checks against the broker's own CA, the way a device that was given <c>ca.crt</c> checks.</summary>
public static class TlsHandshake
{
    /// <summary>
    /// Whether <paramref name="certificate"/> chains to <paramref name="authority"/> alone (not the machine's roots)
    /// and SslStream found <paramref name="policyErrors"/> free of a name mismatch.
    /// </summary>
    public static bool IsTrusted(X509Certificate? certificate, SslPolicyErrors policyErrors, X509Certificate2 authority)
    {
        ArgumentNullException.ThrowIfNull(authority);
        if (certificate is null || (policyErrors & (SslPolicyErrors.RemoteCertificateNotAvailable | SslPolicyErrors.RemoteCertificateNameMismatch)) != 0)
        {
            return false;
        }

        using var chain = new X509Chain();
        chain.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
        chain.ChainPolicy.CustomTrustStore.Add(authority);
        chain.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
        using var server = X509CertificateLoader.LoadCertificate(certificate.GetRawCertData());
        return chain.Build(server);
    }

    /// <summary>
    /// Connects to 127.0.0.1:<paramref name="port"/>, handshakes for <paramref name="targetHost"/> trusting only
    /// <paramref name="authority"/>, and returns the server's certificate; throws AuthenticationException when untrusted.
    /// </summary>
    public static async Task<X509Certificate2> ConnectAsync(int port, string targetHost, X509Certificate2 authority,
        X509Certificate2? clientCertificate = null, CancellationToken cancellationToken = default)
    {
        using var tcp = new TcpClient();
        await tcp.ConnectAsync(IPAddress.Loopback, port, cancellationToken);
        await using var tls = new SslStream(tcp.GetStream(), leaveInnerStreamOpen: false);
        await tls.AuthenticateAsClientAsync(new SslClientAuthenticationOptions
        {
            TargetHost = targetHost,
            RemoteCertificateValidationCallback = (_, certificate, _, errors) => IsTrusted(certificate, errors, authority),
            ClientCertificates = clientCertificate is null ? null : [clientCertificate],
        }, cancellationToken);
        return X509CertificateLoader.LoadCertificate(tls.RemoteCertificate!.GetRawCertData());
    }
}
