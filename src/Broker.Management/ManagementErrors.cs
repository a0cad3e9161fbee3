using Broker.Core.Errors;

namespace Broker.Management;

/// <summary>
/// The errors only the management API raises, with their messages in one place (the registry's own come from
/// <see cref="IotHubErrors"/>). Every one reuses a code of the shared <see cref="IotHubErrorCode"/> table.
/// </summary>
internal static class ManagementErrors
{
    public static IotHubException MissingToken()
        => new(IotHubErrorCode.IotHubUnauthorizedAccess, "Unauthorized: the call has no 'authorization' metadata with a SharedAccessSignature.");

    public static IotHubException BadToken()
        => new(IotHubErrorCode.IotHubUnauthorizedAccess, "Unauthorized: the SharedAccessSignature is malformed or not signed by a shared access policy of this hub.");

    public static IotHubException ExpiredToken()
        => new(IotHubErrorCode.IotHubUnauthorizedAccess, "Unauthorized: the SharedAccessSignature has expired.");

    public static IotHubException InsufficientRights(string policyName, string required)
        => new(IotHubErrorCode.IotHubUnauthorizedAccess, $"Unauthorized: the token does not grant {required} on this resource (policy '{policyName}').");

    public static IotHubException InvalidDeviceJson(string reason)
        => IotHubErrors.ArgumentInvalid($"The device JSON is invalid: {reason}");

    // IoT Hub's table has no "policy not found" code (policies live in the ARM control plane there).
    public static IotHubException PolicyNotFound(string name)
        => IotHubErrors.ArgumentInvalid($"Shared access policy '{name}' does not exist.");

    public static IotHubException NoDeviceCredentials(string deviceId)
        => IotHubErrors.ArgumentInvalid($"Device {deviceId} has no credentials of its own (authentication type none), so it has no connection string.");

    public static IotHubException ServerError()
        => new(IotHubErrorCode.ServerError, "The broker failed to process the request; see its log.");
}
