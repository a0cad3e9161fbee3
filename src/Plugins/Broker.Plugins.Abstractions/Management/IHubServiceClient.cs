namespace Broker.Plugins.Management;

/// <summary>
/// The hub's service-side operations, supplied by the host to plug-ins through the service container
/// (take it as a constructor parameter). Calls behave as IoT Hub's service API does: the same validation,
/// limits and error codes.
/// </summary>
/// <remarks>Failures other than "not found" on reads throw <see cref="HubServiceException"/> with IoT Hub's error code.</remarks>
public interface IHubServiceClient
{
    /// <summary>Reads a device identity from the registry.</summary>
    /// <param name="deviceId">The case-sensitive device id.</param>
    /// <param name="cancellationToken">Cancels the call.</param>
    /// <returns>The identity, or null when no such device is registered.</returns>
    ValueTask<DeviceIdentity?> GetDeviceAsync(string deviceId, CancellationToken cancellationToken);

    /// <summary>Registers a device; fails with 409001 (DeviceAlreadyExists) if the id is taken.</summary>
    /// <param name="device">The device to create.</param>
    /// <param name="cancellationToken">Cancels the call.</param>
    /// <returns>The identity as stored, with its generation id and etag.</returns>
    ValueTask<DeviceIdentity> CreateDeviceAsync(NewDevice device, CancellationToken cancellationToken);

    /// <summary>Reads the twin of a device or module.</summary>
    /// <param name="deviceId">The device id.</param>
    /// <param name="moduleId">The module id, or null for the device's own twin.</param>
    /// <param name="cancellationToken">Cancels the call.</param>
    /// <returns>The twin, or null when the identity does not exist.</returns>
    ValueTask<DeviceTwin?> GetTwinAsync(string deviceId, string? moduleId, CancellationToken cancellationToken);

    /// <summary>Patches the tags and desired properties of a twin (IoT Hub's twin PATCH); connected devices receive the desired patch.</summary>
    /// <param name="update">The patch and the etag it is conditional on.</param>
    /// <param name="cancellationToken">Cancels the call.</param>
    /// <returns>The twin after the patch; 412 (PreconditionFailed) when the etag no longer matches.</returns>
    ValueTask<DeviceTwin> UpdateTwinAsync(TwinUpdate update, CancellationToken cancellationToken);

    /// <summary>Invokes a direct method on a connected device or module and waits for its answer.</summary>
    /// <param name="invocation">The target, method, payload and timeouts.</param>
    /// <param name="cancellationToken">Cancels the wait (the device may still run the method).</param>
    /// <returns>The device's status and payload; 404103 (DeviceNotOnline) or 504101 (GatewayTimeout) are thrown.</returns>
    ValueTask<MethodInvocationResult> InvokeMethodAsync(MethodInvocation invocation, CancellationToken cancellationToken);

    /// <summary>Queues a cloud-to-device message; completes when it is stored (at most 50 are queued per device).</summary>
    /// <param name="message">The message.</param>
    /// <param name="cancellationToken">Cancels the call.</param>
    ValueTask SendCloudToDeviceAsync(CloudToDeviceMessage message, CancellationToken cancellationToken);
}
