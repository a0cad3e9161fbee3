namespace Broker.Core.Security;

/// <summary>The outcome of an authentication; the protocol layers map failures to CONNACK codes, AMQP errors or HTTP 401/403.</summary>
public enum AuthStatus
{
    /// <summary>The credentials are good for the identity.</summary>
    Success = 0,

    /// <summary>Malformed token, wrong signature, unknown policy or unregistered certificate.</summary>
    BadCredentials,

    /// <summary>The token's expiry (plus clock skew) or the certificate's validity has passed.</summary>
    Expired,

    /// <summary>The device or module is not registered.</summary>
    DeviceNotFound,

    /// <summary>The device is disabled.</summary>
    DeviceDisabled,

    /// <summary>Genuine credentials that do not grant this access (wrong resource, missing right).</summary>
    NotAuthorized,
}
