using System.Net;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Broker.Host.Hosting;
using Microsoft.Extensions.Logging;

namespace Broker.Host.Security;

/// <summary>
/// The broker's own certificate authority, for TLS without a configured certificate: a CA (ECDSA P-256, 10 years)
/// and a server certificate it signs for the hub's host name, <c>localhost</c>, 127.0.0.1 and ::1 (1 year), kept as
/// PEM files in <c>&lt;data&gt;/tls/</c>. Clients trust <c>ca.crt</c>; the CA outlives server certificates, so
/// re-issuing one (new host name, near expiry) does not make clients trust anything new.
/// </summary>
internal static class LocalCertificateAuthority
{
    public const string DirectoryName = "tls";
    public const string AuthorityCertificateFile = "ca.crt";
    public const string AuthorityKeyFile = "ca.key";
    public const string ServerCertificateFile = "server.crt";
    public const string ServerKeyFile = "server.key";

    internal static readonly TimeSpan AuthorityLifetime = TimeSpan.FromDays(3652);
    internal static readonly TimeSpan ServerLifetime = TimeSpan.FromDays(365);

    // A start this close to expiry renews, so a broker restarted now and then never serves an expired certificate.
    internal static readonly TimeSpan RenewBefore = TimeSpan.FromDays(30);

    // Devices with a drifting clock would refuse a certificate that is "not yet valid".
    private static readonly TimeSpan Backdate = TimeSpan.FromDays(1);

    private static readonly Oid ServerAuthentication = new("1.3.6.1.5.5.7.3.1", "Server Authentication");

    /// <summary>Loads the CA and server certificate from <paramref name="directory"/>, creating or renewing what is missing or unusable.</summary>
    public static ServerCertificate LoadOrCreate(string directory, string hostName, TimeProvider time, ILogger logger)
    {
        SecretFiles.CreatePrivateDirectory(directory);
        var now = time.GetUtcNow();
        var authorityPath = Path.Combine(directory, AuthorityCertificateFile);
        using var authority = LoadAuthority(authorityPath, Path.Combine(directory, AuthorityKeyFile), now, logger)
            ?? CreateAuthority(authorityPath, Path.Combine(directory, AuthorityKeyFile), now, logger);

        var serverPath = Path.Combine(directory, ServerCertificateFile);
        var serverKeyPath = Path.Combine(directory, ServerKeyFile);
        var server = TryLoadPair(serverPath, serverKeyPath);
        if (server is null || !IsUsable(server, authority, hostName, now))
        {
            server?.Dispose();
            server = IssueServerCertificate(authority, hostName, now, serverPath, serverKeyPath);
            HostLog.ServerCertificateIssued(logger, serverPath, string.Join(", ", SubjectNames(hostName)), server.NotAfter.ToUniversalTime(), server.Thumbprint);
        }

        HostLog.TrustAuthority(logger, authorityPath);
        return new ServerCertificate(Tls.Usable(server), [], authorityPath);
    }

    private static X509Certificate2? LoadAuthority(string certificatePath, string keyPath, DateTimeOffset now, ILogger logger)
    {
        if (!File.Exists(certificatePath))
        {
            return null; // first start, or a crash between writing the key and the certificate
        }

        if (!File.Exists(keyPath))
        {
            // Replacing a CA that clients may already trust must be a person's decision, never a silent one.
            throw new InvalidDataException(
                $"The broker's CA {certificatePath} has no private key {keyPath}; restore it, or delete both to create a new CA that clients must trust again.");
        }

        var authority = X509Certificate2.CreateFromPemFile(certificatePath, keyPath);
        if (now + RenewBefore >= authority.NotAfter.ToUniversalTime())
        {
            HostLog.AuthorityExpiring(logger, certificatePath, authority.NotAfter.ToUniversalTime());
            authority.Dispose();
            return null;
        }

        return authority;
    }

    private static X509Certificate2 CreateAuthority(string certificatePath, string keyPath, DateTimeOffset now, ILogger logger)
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var name = new X500DistinguishedNameBuilder();
        // A random suffix keeps the CAs of several installations apart in a trust store.
        name.AddCommonName($"Broker Local CA {Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(4))}");
        name.AddOrganizationName("Broker");
        var request = new CertificateRequest(name.Build(), key, HashAlgorithmName.SHA256);
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(certificateAuthority: true, hasPathLengthConstraint: true, pathLengthConstraint: 0, critical: true));
        request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.KeyCertSign | X509KeyUsageFlags.CrlSign, critical: true));
        request.CertificateExtensions.Add(new X509SubjectKeyIdentifierExtension(request.PublicKey, critical: false));
        var authority = request.CreateSelfSigned(now - Backdate, now + AuthorityLifetime);

        // The key first: a crash between the two writes leaves no certificate, which the next start treats as no CA.
        SecretFiles.Write(keyPath, key.ExportPkcs8PrivateKeyPem(), secret: true);
        SecretFiles.Write(certificatePath, authority.ExportCertificatePem(), secret: false);
        HostLog.AuthorityCreated(logger, certificatePath, authority.Subject);
        return authority;
    }

    private static X509Certificate2 IssueServerCertificate(X509Certificate2 authority, string hostName, DateTimeOffset now, string certificatePath, string keyPath)
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var name = new X500DistinguishedNameBuilder();
        name.AddCommonName(hostName);
        var request = new CertificateRequest(name.Build(), key, HashAlgorithmName.SHA256);
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(certificateAuthority: false, hasPathLengthConstraint: false, pathLengthConstraint: 0, critical: true));
        request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.DigitalSignature, critical: true));
        request.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension([ServerAuthentication], critical: false));
        request.CertificateExtensions.Add(new X509SubjectKeyIdentifierExtension(request.PublicKey, critical: false));
        request.CertificateExtensions.Add(X509AuthorityKeyIdentifierExtension.CreateFromCertificate(authority, includeKeyIdentifier: true, includeIssuerAndSerial: false));
        var alternativeNames = new SubjectAlternativeNameBuilder();
        foreach (var subjectName in SubjectNames(hostName))
        {
            if (IPAddress.TryParse(subjectName, out var address))
            {
                alternativeNames.AddIpAddress(address);
            }
            else
            {
                alternativeNames.AddDnsName(subjectName);
            }
        }

        request.CertificateExtensions.Add(alternativeNames.Build());

        var serial = RandomNumberGenerator.GetBytes(16);
        serial[0] &= 0x7F; // a positive serial number, as RFC 5280 asks
        var authorityExpiry = new DateTimeOffset(authority.NotAfter.ToUniversalTime());
        var notAfter = now + ServerLifetime < authorityExpiry ? now + ServerLifetime : authorityExpiry;
        using var issued = request.Create(authority, now - Backdate, notAfter, serial);

        SecretFiles.Write(keyPath, key.ExportPkcs8PrivateKeyPem(), secret: true);
        SecretFiles.Write(certificatePath, issued.ExportCertificatePem(), secret: false);
        return issued.CopyWithPrivateKey(key);
    }

    private static IEnumerable<string> SubjectNames(string hostName)
    {
        string[] names = [hostName, "localhost", IPAddress.Loopback.ToString(), IPAddress.IPv6Loopback.ToString()];
        return names.Distinct(StringComparer.OrdinalIgnoreCase);
    }

    private static X509Certificate2? TryLoadPair(string certificatePath, string keyPath)
    {
        if (!File.Exists(certificatePath) || !File.Exists(keyPath))
        {
            return null;
        }

        try
        {
            return X509Certificate2.CreateFromPemFile(certificatePath, keyPath);
        }
        catch (CryptographicException)
        {
            return null; // torn or mismatched: a server certificate is cheap to issue again
        }
    }

    private static bool IsUsable(X509Certificate2 server, X509Certificate2 authority, string hostName, DateTimeOffset now)
    {
        if (now < server.NotBefore.ToUniversalTime() || now + RenewBefore >= server.NotAfter.ToUniversalTime())
        {
            return false;
        }

        if (!server.MatchesHostname(hostName, allowWildcards: false, allowCommonName: false)
            || !server.MatchesHostname("localhost", allowWildcards: false, allowCommonName: false))
        {
            return false; // the host name changed since it was issued
        }

        using var chain = new X509Chain();
        chain.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
        chain.ChainPolicy.CustomTrustStore.Add(authority);
        chain.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
        chain.ChainPolicy.VerificationTimeIgnored = false;
        chain.ChainPolicy.VerificationTime = now.UtcDateTime;
        return chain.Build(server); // false when the CA was replaced since it was issued
    }
}
