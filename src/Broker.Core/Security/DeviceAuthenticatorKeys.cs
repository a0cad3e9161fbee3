namespace Broker.Core.Security;

/// <summary>
/// Service keys of <see cref="IDeviceAuthenticator"/> registrations. Not part of the plug-in contract: the built-in
/// DeviceAuth plug-in, which shares the host's assemblies, registers the broker's own SAS / X.509 authenticator
/// under <see cref="BuiltIn"/>, and the host puts the contract's authentication providers in front of it.
/// </summary>
public static class DeviceAuthenticatorKeys
{
    /// <summary>The authenticator that decides when no authentication plug-in does (SAS and X.509 against the registry).</summary>
    public const string BuiltIn = "Broker.BuiltIn";
}
