namespace Broker.Plugins.Authentication;

/// <summary>The answer of an <see cref="IDeviceAuthenticationProvider"/>; <c>default</c> is <see cref="NotMine"/>.</summary>
public readonly record struct DeviceAuthenticationResult
{
    /// <summary>Whether the provider admitted, refused or passed on the connection.</summary>
    public DeviceAuthenticationOutcome Outcome { get; init; }

    /// <summary>
    /// How the device authenticated when <see cref="Outcome"/> is <see cref="DeviceAuthenticationOutcome.Succeeded"/>,
    /// for logs and metrics (for example <c>sas</c>, <c>x509</c>, or the provider's own name).
    /// </summary>
    public string? AuthenticationMethod { get; init; }

    /// <summary>Why the connection was refused when <see cref="Outcome"/> is <see cref="DeviceAuthenticationOutcome.Declined"/>; logged, never sent to the device.</summary>
    public string? Reason { get; init; }

    /// <summary>When the credentials expire; the host closes the connection then. Null when they do not expire.</summary>
    public DateTimeOffset? ExpiresAt { get; init; }

    /// <summary>Passes the request to the next provider.</summary>
    public static DeviceAuthenticationResult NotMine => default;

    /// <summary>Admits the connection.</summary>
    /// <param name="authenticationMethod">How the device authenticated (for example <c>sas</c> or <c>x509</c>).</param>
    /// <param name="expiresAt">When the credentials expire, or null when they do not.</param>
    public static DeviceAuthenticationResult Success(string authenticationMethod, DateTimeOffset? expiresAt)
    {
        ArgumentException.ThrowIfNullOrEmpty(authenticationMethod);
        return new DeviceAuthenticationResult
        {
            Outcome = DeviceAuthenticationOutcome.Succeeded,
            AuthenticationMethod = authenticationMethod,
            ExpiresAt = expiresAt,
        };
    }

    /// <summary>Refuses the connection; no other provider is asked.</summary>
    /// <param name="reason">Why, for the host's log.</param>
    public static DeviceAuthenticationResult Decline(string reason)
    {
        ArgumentException.ThrowIfNullOrEmpty(reason);
        return new DeviceAuthenticationResult { Outcome = DeviceAuthenticationOutcome.Declined, Reason = reason };
    }
}
