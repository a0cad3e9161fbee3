namespace Broker.Plugins.Management;

/// <summary>How a registered identity proves itself (IoT Hub's <c>authentication.type</c>).</summary>
public enum DeviceCredentialType
{
    /// <summary>SAS tokens signed with the identity's symmetric keys.</summary>
    Sas = 0,

    /// <summary>A client certificate whose thumbprint is registered.</summary>
    SelfSigned = 1,

    /// <summary>A client certificate chaining to a registered certificate authority.</summary>
    CertificateAuthority = 2,

    /// <summary>No credentials of its own.</summary>
    None = 3,
}
