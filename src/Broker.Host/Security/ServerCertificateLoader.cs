using System.Security.Cryptography.X509Certificates;
using Broker.Host.Hosting;
using Microsoft.Extensions.Logging;

namespace Broker.Host.Security;

/// <summary>Finds the TLS listeners' certificate: the configured one, or the broker's own CA's in <c>&lt;data&gt;/tls/</c>.</summary>
internal static class ServerCertificateLoader
{
    public static ServerCertificate Load(TlsOptions options, string dataDirectory, string hostName, TimeProvider time, ILogger logger)
    {
        if (string.IsNullOrWhiteSpace(options.CertificatePath))
        {
            return LocalCertificateAuthority.LoadOrCreate(Path.Combine(dataDirectory, LocalCertificateAuthority.DirectoryName), hostName, time, logger);
        }

        var path = Path.GetFullPath(options.CertificatePath);
        var certificate = IsPkcs12(path, options) ? LoadPkcs12(path, options.Password) : LoadPem(path, options);
        if (!certificate.Certificate.MatchesHostname(hostName))
        {
            HostLog.CertificateNameMismatch(logger, path, hostName);
        }

        if (certificate.Certificate.NotAfter.ToUniversalTime() <= time.GetUtcNow().UtcDateTime)
        {
            HostLog.CertificateExpired(logger, path, certificate.Certificate.NotAfter.ToUniversalTime());
        }

        HostLog.CertificateLoaded(logger, path, certificate.Certificate.Subject, certificate.Certificate.Thumbprint);
        return certificate;
    }

    private static bool IsPkcs12(string path, TlsOptions options)
    {
        var extension = Path.GetExtension(path);
        return string.IsNullOrEmpty(options.KeyPath)
            && (extension.Equals(".pfx", StringComparison.OrdinalIgnoreCase) || extension.Equals(".p12", StringComparison.OrdinalIgnoreCase));
    }

    private static ServerCertificate LoadPkcs12(string path, string? password)
    {
        var all = X509CertificateLoader.LoadPkcs12CollectionFromFile(path, password);
        X509Certificate2? leaf = null;
        var intermediates = new X509Certificate2Collection();
        foreach (var certificate in all)
        {
            if (leaf is null && certificate.HasPrivateKey)
            {
                leaf = certificate;
            }
            else
            {
                intermediates.Add(certificate);
            }
        }

        if (leaf is null)
        {
            foreach (var certificate in all)
            {
                certificate.Dispose();
            }

            throw new InvalidDataException($"Tls:CertificatePath {path} holds no certificate with a private key.");
        }

        return new ServerCertificate(leaf, intermediates, authorityPath: null);
    }

    private static ServerCertificate LoadPem(string path, TlsOptions options)
    {
        var keyPath = string.IsNullOrWhiteSpace(options.KeyPath) ? null : Path.GetFullPath(options.KeyPath);
        var leaf = string.IsNullOrEmpty(options.Password)
            ? X509Certificate2.CreateFromPemFile(path, keyPath)
            : X509Certificate2.CreateFromEncryptedPemFile(path, options.Password, keyPath);

        // A PEM bundle carries the intermediates after the server certificate; clients need them to reach their root.
        var all = new X509Certificate2Collection();
        all.ImportFromPemFile(path);
        var intermediates = new X509Certificate2Collection();
        foreach (var certificate in all)
        {
            if (certificate.Thumbprint == leaf.Thumbprint)
            {
                certificate.Dispose();
            }
            else
            {
                intermediates.Add(certificate);
            }
        }

        return new ServerCertificate(Tls.Usable(leaf), intermediates, authorityPath: null);
    }
}
