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
        var authority = broker.LoadCertificateAuthority();
        var handler = new SocketsHttpHandler
        {
            SslOptions = new SslClientAuthenticationOptions
            {
                TargetHost = broker.HostName,
                RemoteCertificateValidationCallback = (_, server, _, errors) => TlsHandshake.IsTrusted(server, errors, authority),
                ClientCertificates = clientCertificate is null ? null : new X509CertificateCollection { clientCertificate },
            },
        };
        var client = new HttpClient(handler) { BaseAddress = new Uri($"https://127.0.0.1:{broker.HttpsPort}"), Timeout = Bound };
        if (authorization is not null)
        {
            client.DefaultRequestHeaders.TryAddWithoutValidation("Authorization", authorization);
        }

        return client;
    }
}
