using System.Text.Json.Serialization;

namespace Broker.Core.Registry;

/// <summary>How an identity proves itself (<c>authentication.type</c>).</summary>
[JsonConverter(typeof(JsonStringEnumConverter<AuthenticationType>))]
public enum AuthenticationType
{
    /// <summary>SAS tokens signed with the identity's symmetric keys.</summary>
    [JsonStringEnumMemberName("sas")]
    Sas = 0,

    /// <summary>A client certificate whose thumbprint is registered.</summary>
    [JsonStringEnumMemberName("selfSigned")]
    SelfSigned = 1,

    /// <summary>A client certificate chaining to a registered CA.</summary>
    [JsonStringEnumMemberName("certificateAuthority")]
    CertificateAuthority = 2,

    /// <summary>No credentials of its own (e.g. modules managed by IoT Edge).</summary>
    [JsonStringEnumMemberName("none")]
    None = 3,
}
