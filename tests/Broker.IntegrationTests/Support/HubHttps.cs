using System.Net.Security;
using System.Security.Cryptography.X509Certificates;
using Broker.Host.Tests.Support;

namespace Broker.IntegrationTests.Support;

/// <summary>HTTP clients for the broker's HTTPS listener, trusting only its CA, as the SDKs' HTTP clients call it.</summary>
internal static class HubHttps
{
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(30);

    /// <summary>
    /// A client for <c>https://127.0.0.1:{HttpsPort}</c> (server name: the hub's host name) sending
    /// <paramref name="authorization"/> (a SAS token) on every request and, if given, a TLS client certificate.
    /// </summary>
    public static HttpClient Client(TestBroker broker, string? authorization, X509Certificate2? clientCertificate = null)
    {
        ArgumentNullException.ThrowIfNull(broker);
        return Client(broker.CertificateAuthorityPath, broker.HostName, broker.HttpsPort, authorization, clientCertificate);
    }

    /// <summary>The same for a broker known by its CA file, host name and HTTPS port (a broker process).</summary>
    public static HttpClient Client(string certificateAuthorityPath, string hostName, int httpsPort, string? authorization, X509Certificate2? clientCertificate = null)
    {
        var authority = X509CertificateLoader.LoadCertificateFromFile(certificateAuthorityPath);
        var handler = new SocketsHttpHandler
        {
            SslOptions = new SslClientAuthenticationOptions
            {
                TargetHost = hostName,
                RemoteCertificateValidationCallback = (_, server, _, errors) => TlsHandshake.IsTrusted(server, errors, authority),
                ClientCertificates = clientCertificate is null ? null : new X509CertificateCollection { clientCertificate },
            },
        };
        var client = new HttpClient(handler) { BaseAddress = new Uri($"https://127.0.0.1:{httpsPort}"), Timeout = Bound };
        if (authorization is not null)
        {
            client.DefaultRequestHeaders.TryAddWithoutValidation("Authorization", authorization);
        }

        return client;
    }
}
