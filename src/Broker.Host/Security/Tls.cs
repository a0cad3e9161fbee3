using System.Security.Cryptography.X509Certificates;

namespace Broker.Host.Security;

/// <summary>Small TLS helpers shared by the certificate sources.</summary>
internal static class Tls
{
    /// <summary>
    /// A certificate SslStream can serve. Keys loaded from PEM are ephemeral, which Windows' TLS stack (SChannel)
    /// cannot use, so there the certificate goes through PKCS#12 once; elsewhere it is returned as it is.
    /// </summary>
    public static X509Certificate2 Usable(X509Certificate2 certificate)
    {
        if (!OperatingSystem.IsWindows())
        {
            return certificate;
        }

        using (certificate)
        {
            return X509CertificateLoader.LoadPkcs12(certificate.Export(X509ContentType.Pkcs12), password: null);
        }
    }
}
