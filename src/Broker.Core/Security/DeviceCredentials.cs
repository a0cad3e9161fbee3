using System.Security.Cryptography.X509Certificates;

namespace Broker.Core.Security;

/// <summary>What a device or module presented when connecting: a SAS token, or a TLS client certificate.</summary>
public sealed class DeviceCredentials
{
    private DeviceCredentials(string deviceId, string? moduleId, string? sasToken, X509Certificate2? certificate)
    {
        DeviceId = deviceId;
        ModuleId = moduleId;
        SasToken = sasToken;
        ClientCertificate = certificate;
    }

    /// <summary>The device id the connection claims (MQTT ClientId/username, AMQP audience).</summary>
    public string DeviceId { get; }

    /// <summary>The module id the connection claims, or null for a device.</summary>
    public string? ModuleId { get; }

    /// <summary>The full token, <c>SharedAccessSignature sr=…</c>.</summary>
    public string? SasToken { get; }

    /// <summary>The TLS client certificate.</summary>
    public X509Certificate2? ClientCertificate { get; }

    /// <summary>Credentials from a SAS token (MQTT password, CBS put-token, SASL PLAIN password).</summary>
    public static DeviceCredentials FromSasToken(string deviceId, string? moduleId, string sasToken)
    {
        ArgumentNullException.ThrowIfNull(deviceId);
        ArgumentNullException.ThrowIfNull(sasToken);
        return new DeviceCredentials(deviceId, moduleId, sasToken, null);
    }

    /// <summary>Credentials from a TLS client certificate.</summary>
    public static DeviceCredentials FromCertificate(string deviceId, string? moduleId, X509Certificate2 certificate)
    {
        ArgumentNullException.ThrowIfNull(deviceId);
        ArgumentNullException.ThrowIfNull(certificate);
        return new DeviceCredentials(deviceId, moduleId, null, certificate);
    }
}
