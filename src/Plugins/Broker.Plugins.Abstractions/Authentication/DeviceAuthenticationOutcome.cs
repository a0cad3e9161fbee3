namespace Broker.Plugins.Authentication;

/// <summary>How an <see cref="IDeviceAuthenticationProvider"/> answered.</summary>
public enum DeviceAuthenticationOutcome
{
    /// <summary>The provider does not handle this identity or credential; the next provider decides. The default.</summary>
    NotMine = 0,

    /// <summary>The connection is who it claims to be and may connect.</summary>
    Succeeded = 1,

    /// <summary>The provider handles this identity and refuses it; no other provider is asked.</summary>
    Declined = 2,
}
