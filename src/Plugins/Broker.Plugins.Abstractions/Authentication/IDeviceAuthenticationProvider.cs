namespace Broker.Plugins.Authentication;

/// <summary>
/// Authenticates connecting devices and modules. Register implementations as services
/// (<c>services.AddSingleton&lt;IDeviceAuthenticationProvider, MyProvider&gt;()</c>); the host asks them in turn.
/// </summary>
/// <remarks>
/// Providers form a chain: the first one that answers <see cref="DeviceAuthenticationOutcome.Succeeded"/> or
/// <see cref="DeviceAuthenticationOutcome.Declined"/> decides, and one that answers
/// <see cref="DeviceAuthenticationOutcome.NotMine"/> passes the request on. When every provider passes, the
/// connection is refused as not authorized. Authentication runs once per connection attempt, not per message,
/// but it is on the connect path of every device: keep it fast and never block a thread.
/// </remarks>
public interface IDeviceAuthenticationProvider
{
    /// <summary>Decides whether the connection may act as the identity it claims.</summary>
    /// <param name="request">The claimed identity and the credentials presented.</param>
    /// <param name="cancellationToken">Cancelled when the connection goes away or its connect deadline passes.</param>
    /// <returns>The decision, or <see cref="DeviceAuthenticationResult.NotMine"/> to let the next provider decide.</returns>
    ValueTask<DeviceAuthenticationResult> AuthenticateAsync(DeviceAuthenticationRequest request, CancellationToken cancellationToken);
}
