using System.Globalization;

namespace Broker.Core.Errors;

/// <summary>The messages that go with <see cref="IotHubErrorCode"/>, kept in one place like the codes.</summary>
public static class IotHubErrors
{
    /// <summary>A request argument is invalid.</summary>
    public static IotHubException ArgumentInvalid(string message) => new(IotHubErrorCode.ArgumentInvalid, message);

    /// <summary>The device is not registered.</summary>
    public static IotHubException DeviceNotFound(string deviceId)
        => new(IotHubErrorCode.DeviceNotFound, Format("Device {0} not registered", deviceId));

    /// <summary>The module is not registered on the device.</summary>
    public static IotHubException ModuleNotFound(string deviceId, string moduleId)
        => new(IotHubErrorCode.ModuleNotFound, Format("Module {0} on device {1} not registered", moduleId, deviceId));

    /// <summary>The device id is taken.</summary>
    public static IotHubException DeviceAlreadyExists(string deviceId)
        => new(IotHubErrorCode.DeviceAlreadyExists, Format("A device with ID '{0}' is already registered.", deviceId));

    /// <summary>The module id is taken on that device.</summary>
    public static IotHubException ModuleAlreadyExists(string deviceId, string moduleId)
        => new(IotHubErrorCode.ModuleAlreadyExistsOnDevice, Format("A module with ID '{0}' is already registered on device '{1}'.", moduleId, deviceId));

    /// <summary>The If-Match etag is not the current one.</summary>
    public static IotHubException PreconditionFailed(string identity, string currentETag)
        => new(IotHubErrorCode.PreconditionFailed, Format("Precondition failed: the ETag of {0} did not match; current ETag is \"{1}\".", identity, currentETag));

    private static string Format(string format, params object[] args) => string.Format(CultureInfo.InvariantCulture, format, args);
}
