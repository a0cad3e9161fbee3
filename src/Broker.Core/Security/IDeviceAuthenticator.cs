namespace Broker.Core.Security;

/// <summary>Decides whether a connecting device or module is who it claims to be and may connect.</summary>
public interface IDeviceAuthenticator
{
    /// <summary>Authenticates the credentials for the identity they claim.</summary>
    ValueTask<AuthResult> AuthenticateAsync(DeviceCredentials credentials, CancellationToken cancellationToken = default);
}
