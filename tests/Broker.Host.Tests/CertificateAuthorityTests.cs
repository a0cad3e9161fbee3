using System.Security.Authentication;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Broker.Host.Tests.Support;
using Xunit.Abstractions;

namespace Broker.Host.Tests;

public sealed class CertificateAuthorityTests(ITestOutputHelper output)
{
    [Fact]
    public async Task StartAsync_NoConfiguredCertificate_CreatesTheCaOnceAndReusesItOnRestart()
    {
        await using var broker = await TestBroker.StartAsync(new TestBrokerOptions { Output = output });
        var tls = Path.Combine(broker.DataDirectory, "tls");
        Assert.Equal(Path.Combine(tls, "ca.crt"), broker.CertificateAuthorityPath);
        string authority, server;
        using (var ca = broker.LoadCertificateAuthority())
        using (var served = await TlsHandshake.ConnectAsync(broker.MqttsPort, "localhost", ca))
        {
            authority = ca.Thumbprint;
            server = served.Thumbprint;
        }

        if (!OperatingSystem.IsWindows())
        {
            Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(Path.Combine(tls, "ca.key")));
            Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(Path.Combine(tls, "server.key")));
        }

        await broker.RestartAsync();

        using var reloaded = broker.LoadCertificateAuthority();
        using var servedAgain = await TlsHandshake.ConnectAsync(broker.MqttsPort, "localhost", reloaded);
        Assert.Equal(authority, reloaded.Thumbprint);
        Assert.Equal(server, servedAgain.Thumbprint);
    }

    [Theory]
    [InlineData("localhost")]
    [InlineData("127.0.0.1")]
    public async Task MqttsHandshake_TrustingOnlyTheGeneratedCa_Validates(string targetHost)
    {
        await using var broker = await TestBroker.StartAsync(new TestBrokerOptions { Output = output });
        using var authority = broker.LoadCertificateAuthority();

        using var served = await TlsHandshake.ConnectAsync(broker.MqttsPort, targetHost, authority);

        Assert.True(served.MatchesHostname(targetHost));
        Assert.Equal(authority.Subject, served.Issuer);
    }

    [Fact]
    public async Task MqttsHandshake_NameTheCertificateDoesNotCover_IsRefused()
    {
        await using var broker = await TestBroker.StartAsync(new TestBrokerOptions { Output = output });
        using var authority = broker.LoadCertificateAuthority();

        await Assert.ThrowsAsync<AuthenticationException>(() => TlsHandshake.ConnectAsync(broker.MqttsPort, "other.example", authority));
    }

    [Fact]
    public async Task MqttsHandshake_AnyClientCertificate_IsAcceptedAtTheTlsLayer()
    {
        await using var broker = await TestBroker.StartAsync(new TestBrokerOptions { Output = output });
        using var authority = broker.LoadCertificateAuthority();
        using var client = SelfSigned("CN=some-device");

        using var served = await TlsHandshake.ConnectAsync(broker.MqttsPort, "localhost", authority, client);

        Assert.Equal(authority.Subject, served.Issuer);
    }

    [Fact]
    public async Task StartAsync_HostNameChanged_IssuesANewServerCertificateFromTheSameCa()
    {
        var dataDirectory = TestBroker.CreateTemporaryDirectory();
        try
        {
            string authority;
            await using (var first = await TestBroker.StartAsync(new TestBrokerOptions { Output = output, DataDirectory = dataDirectory, HostName = "hub-a.example" }))
            {
                using var ca = first.LoadCertificateAuthority();
                using var served = await TlsHandshake.ConnectAsync(first.MqttsPort, "hub-a.example", ca);
                authority = ca.Thumbprint;
            }

            await using var second = await TestBroker.StartAsync(new TestBrokerOptions { Output = output, DataDirectory = dataDirectory, HostName = "hub-b.example" });
            using var reloaded = second.LoadCertificateAuthority();
            using var reissued = await TlsHandshake.ConnectAsync(second.MqttsPort, "hub-b.example", reloaded);

            Assert.Equal(authority, reloaded.Thumbprint);
            Assert.True(reissued.MatchesHostname("localhost"));
        }
        finally
        {
            TestBroker.DeleteDirectory(dataDirectory);
        }
    }

    [Theory]
    [InlineData("pem")]
    [InlineData("pfx")]
    public async Task StartAsync_ConfiguredCertificate_IsServedAndNoCaIsMade(string format)
    {
        var directory = TestBroker.CreateTemporaryDirectory();
        try
        {
            using var certificate = SelfSigned("CN=localhost", "localhost");
            var settings = new Dictionary<string, string?>();
            if (format == "pem")
            {
                File.WriteAllText(Path.Combine(directory, "server.crt"), certificate.ExportCertificatePem());
                File.WriteAllText(Path.Combine(directory, "server.key"), certificate.GetECDsaPrivateKey()!.ExportPkcs8PrivateKeyPem());
                settings["Tls:CertificatePath"] = Path.Combine(directory, "server.crt");
                settings["Tls:KeyPath"] = Path.Combine(directory, "server.key");
            }
            else
            {
                File.WriteAllBytes(Path.Combine(directory, "server.pfx"), certificate.Export(X509ContentType.Pkcs12, "secret"));
                settings["Tls:CertificatePath"] = Path.Combine(directory, "server.pfx");
                settings["Tls:Password"] = "secret";
            }

            await using var broker = await TestBroker.StartAsync(new TestBrokerOptions { Output = output, Settings = settings });
            using var trusted = X509CertificateLoader.LoadCertificate(certificate.RawData);
            using var served = await TlsHandshake.ConnectAsync(broker.MqttsPort, "localhost", trusted);

            Assert.Equal(certificate.Thumbprint, served.Thumbprint);
            Assert.Null(broker.Server.CertificateAuthorityPath);
            Assert.False(Directory.Exists(Path.Combine(broker.DataDirectory, "tls")));
        }
        finally
        {
            TestBroker.DeleteDirectory(directory);
        }
    }

    private static X509Certificate2 SelfSigned(string subject, string? dnsName = null)
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest(subject, key, HashAlgorithmName.SHA256);
        if (dnsName is not null)
        {
            var names = new SubjectAlternativeNameBuilder();
            names.AddDnsName(dnsName);
            request.CertificateExtensions.Add(names.Build());
        }

        var now = DateTimeOffset.UtcNow;
        return request.CreateSelfSigned(now.AddDays(-1), now.AddDays(30));
    }
}
