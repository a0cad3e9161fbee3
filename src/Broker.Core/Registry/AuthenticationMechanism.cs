using System.Text.Json.Serialization;

namespace Broker.Core.Registry;

/// <summary>The <c>authentication</c> object of a device or module.</summary>
public sealed record AuthenticationMechanism
{
    /// <summary>The symmetric keys (type <c>sas</c>).</summary>
    [JsonPropertyName("symmetricKey")]
    public SymmetricKey? SymmetricKey { get; init; }

    /// <summary>The certificate thumbprints (type <c>selfSigned</c>).</summary>
    [JsonPropertyName("x509Thumbprint")]
    public X509Thumbprint? X509Thumbprint { get; init; }

    /// <summary>Which credentials apply.</summary>
    [JsonPropertyName("type")]
    public AuthenticationType Type { get; init; }
}
