namespace Broker.Host.Hosting;

/// <summary>
/// The server certificate of the TLS listeners (configuration section <c>Tls</c>). Without one, the broker creates
/// its own CA and server certificate in <c>&lt;data&gt;/tls/</c> on first start.
/// </summary>
public sealed class TlsOptions
{
    /// <summary>The configuration section.</summary>
    public const string SectionName = "Tls";

    /// <summary>A PEM certificate (the server certificate first, then any intermediates) or a PFX/PKCS#12 file (<c>.pfx</c>, <c>.p12</c>).</summary>
    public string? CertificatePath { get; set; }

    /// <summary>The PEM private key; unset when the key is in the certificate file.</summary>
    public string? KeyPath { get; set; }

    /// <summary>The PFX password, or the password of an encrypted PEM key.</summary>
    public string? Password { get; set; }
}
