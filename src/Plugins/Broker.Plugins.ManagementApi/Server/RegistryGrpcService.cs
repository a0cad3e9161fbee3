using Broker.Core.Errors;
using Broker.Core.Hub;
using Broker.Core.Registry;
using Broker.Core.Security;
using Broker.Management.V1;
using Grpc.Core;
using Microsoft.Extensions.Options;

namespace Broker.Management.Server;

/// <summary>The identity registry over gRPC; <see cref="IotHubErrorInterceptor"/> turns its IoT Hub errors into statuses.</summary>
internal sealed class RegistryGrpcService(IdentityRegistry registry, CallAuthorizer authorizer, IOptions<HubOptions> hub, ConnectionRegistry connections)
    : RegistryService.RegistryServiceBase
{
    public override async Task<DeviceReply> CreateDevice(CreateDeviceRequest request, ServerCallContext context)
    {
        var device = ParseAuthorized(request.DeviceJson, context);
        var created = await registry.CreateDeviceAsync(device, context.CancellationToken).ConfigureAwait(false);
        return new DeviceReply { DeviceJson = DeviceJson.Write(created) };
    }

    public override Task<DeviceReply> GetDevice(GetDeviceRequest request, ServerCallContext context)
    {
        authorizer.Require(context, AccessRights.RegistryRead, DevicePath(request.DeviceId));
        return Task.FromResult(new DeviceReply { DeviceJson = DeviceJson.Write(connections.WithConnectionState(registry.GetDevice(request.DeviceId))) });
    }

    public override Task<ListDevicesReply> ListDevices(ListDevicesRequest request, ServerCallContext context)
    {
        authorizer.Require(context, AccessRights.RegistryRead, "devices");
        if (request.Top < 0)
        {
            throw IotHubErrors.ArgumentInvalid($"top must be between 0 and {IdentityRegistry.MaxListCount}.");
        }

        var reply = new ListDevicesReply();
        foreach (var device in registry.ListDevices(request.Top == 0 ? IdentityRegistry.MaxListCount : request.Top))
        {
            reply.DevicesJson.Add(DeviceJson.Write(connections.WithConnectionState(device)));
        }

        return Task.FromResult(reply);
    }

    public override async Task<DeviceReply> UpdateDevice(UpdateDeviceRequest request, ServerCallContext context)
    {
        var device = ParseAuthorized(request.DeviceJson, context);
        var ifMatch = string.IsNullOrWhiteSpace(request.IfMatch) ? null : request.IfMatch;
        var updated = await registry.UpdateDeviceAsync(device, ifMatch, context.CancellationToken).ConfigureAwait(false);
        return new DeviceReply { DeviceJson = DeviceJson.Write(updated) };
    }

    public override async Task<DeleteDeviceReply> DeleteDevice(DeleteDeviceRequest request, ServerCallContext context)
    {
        authorizer.Require(context, AccessRights.RegistryWrite, DevicePath(request.DeviceId));
        var ifMatch = string.IsNullOrWhiteSpace(request.IfMatch) ? null : request.IfMatch;
        await registry.DeleteDeviceAsync(request.DeviceId, ifMatch, context.CancellationToken).ConfigureAwait(false);
        return new DeleteDeviceReply();
    }

    public override Task<GetDeviceConnectionStringReply> GetDeviceConnectionString(GetDeviceConnectionStringRequest request, ServerCallContext context)
    {
        authorizer.Require(context, AccessRights.RegistryRead, DevicePath(request.DeviceId));
        var device = registry.GetDevice(request.DeviceId);
        var hostName = hub.Value.HostName;
        var connectionString = device.Authentication switch
        {
            { Type: AuthenticationType.SelfSigned or AuthenticationType.CertificateAuthority } => ConnectionStrings.ForX509Device(hostName, device.DeviceId),
            { Type: AuthenticationType.Sas, SymmetricKey.PrimaryKey: { Length: > 0 } key } => ConnectionStrings.ForDevice(hostName, device.DeviceId, key),
            _ => throw ManagementErrors.NoDeviceCredentials(device.DeviceId),
        };
        return Task.FromResult(new GetDeviceConnectionStringReply { ConnectionString = connectionString });
    }

    /// <summary>
    /// Parses a written device after authorizing the caller for it: the token is checked before the body is
    /// judged, so an anonymous caller learns nothing from parse errors.
    /// </summary>
    private Device ParseAuthorized(string json, ServerCallContext context)
    {
        Device? device = null;
        IotHubException? invalid = null;
        try
        {
            device = DeviceJson.Parse(json);
        }
        catch (IotHubException e)
        {
            invalid = e;
        }

        authorizer.Require(context, AccessRights.RegistryWrite, device is null ? "devices" : DevicePath(device.DeviceId));
        return device ?? throw invalid!;
    }

    /// <summary>The REST path of a device, so a token scoped to <c>{host}/devices/{id}</c> works as it does on IoT Hub.</summary>
    private static string DevicePath(string deviceId) => "devices/" + deviceId;
}
