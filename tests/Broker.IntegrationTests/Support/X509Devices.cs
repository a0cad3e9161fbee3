using Broker.Core.Registry;
using Broker.Host.Tests.Support;

namespace Broker.IntegrationTests.Support;

/// <summary>Devices that authenticate with a self-signed X.509 certificate, registered by its thumbprint.</summary>
internal static class X509Devices
{
    /// <summary>Registers <paramref name="deviceId"/> with <paramref name="certificate"/>'s thumbprint as its primary one.</summary>
    public static async Task<Device> RegisterAsync(TestBroker broker, string deviceId, System.Security.Cryptography.X509Certificates.X509Certificate2 certificate)
        => await broker.Registry.CreateDeviceAsync(new Device
        {
            DeviceId = deviceId,
            Authentication = new AuthenticationMechanism
            {
                Type = AuthenticationType.SelfSigned,
                X509Thumbprint = new X509Thumbprint { PrimaryThumbprint = certificate.Thumbprint },
            },
        });
}
