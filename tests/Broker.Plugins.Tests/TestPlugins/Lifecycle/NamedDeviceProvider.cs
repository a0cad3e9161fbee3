using Broker.Plugins.Authentication;

namespace Broker.TestPlugins.Lifecycle;

public sealed class NamedDeviceProvider(string deviceId) : IDeviceAuthenticationProvider
{
    public ValueTask<DeviceAuthenticationResult> AuthenticateAsync(DeviceAuthenticationRequest request, CancellationToken cancellationToken) =>
        ValueTask.FromResult(request.DeviceId == deviceId ? DeviceAuthenticationResult.Success("lifecycle", null) : DeviceAuthenticationResult.NotMine);
}
