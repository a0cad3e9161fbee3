using System.Text;

namespace Broker.Plugins.Authentication;

/// <summary>What a connecting device or module claims to be and the credentials it presented.</summary>
/// <remarks>
/// A connection presents a SAS token, a TLS client certificate, or both (a certificate on the TLS layer and a
/// token in CONNECT). <see cref="ToString"/> never prints the token or the certificate.
/// </remarks>
public sealed record DeviceAuthenticationRequest
{
    /// <summary>The hub host name the device connected to (the <c>sr</c> of its token starts with it).</summary>
    public required string HostName { get; init; }

    /// <summary>The device id the connection claims (MQTT client id and user name, AMQP audience).</summary>
    public required string DeviceId { get; init; }

    /// <summary>The module id the connection claims, or null for a device connection.</summary>
    public string? ModuleId { get; init; }

    /// <summary>The full SAS token (<c>SharedAccessSignature sr=…&amp;sig=…&amp;se=…</c>), or null if none was presented.</summary>
    public string? SasToken { get; init; }

    /// <summary>
    /// The TLS client certificate in DER form, or empty if none was presented. Load it with
    /// <c>X509CertificateLoader.LoadCertificate(ClientCertificate.Span)</c> when more than its hash is needed.
    /// The memory is only valid until the returned task completes.
    /// </summary>
    public ReadOnlyMemory<byte> ClientCertificate { get; init; }

    // Credentials never reach logs through the record's generated ToString.
    private bool PrintMembers(StringBuilder builder)
    {
        builder.Append("HostName = ").Append(HostName)
            .Append(", DeviceId = ").Append(DeviceId)
            .Append(", ModuleId = ").Append(ModuleId)
            .Append(", SasToken = ").Append(SasToken is null ? "(none)" : "(redacted)")
            .Append(", ClientCertificate = ").Append(ClientCertificate.IsEmpty ? "(none)" : "(redacted)");
        return true;
    }
}
