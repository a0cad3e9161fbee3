using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Broker.Core.CloudToDevice;
using Broker.Core.Errors;
using Broker.Core.Hub;
using Broker.Core.Methods;
using Broker.Core.Registry;
using Broker.Core.Twins;
using Broker.Plugins.Management;
using ContractStatus = Broker.Plugins.Management.DeviceStatus;
using RegistryStatus = Broker.Core.Registry.DeviceStatus;

namespace Broker.Plugins.ManagementApi.Surfaces;

/// <summary>
/// The contract's <see cref="IHubServiceClient"/> over the hub's own services, so a plug-in's management surface
/// acts on the hub with the same validation, limits and error codes as the management API; IoT Hub errors reach
/// the plug-in as <see cref="HubServiceException"/>.
/// </summary>
internal sealed class HubServiceClient(
    IdentityRegistry identities,
    ConnectionRegistry connections,
    TwinService twins,
    MethodInvoker methods,
    CloudToDeviceService cloudToDevice,
    TimeProvider time) : IHubServiceClient
{
    public ValueTask<DeviceIdentity?> GetDeviceAsync(string deviceId, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(deviceId);
        var device = Translate(() => identities.TryGetDevice(deviceId));
        return ValueTask.FromResult(device is null ? null : IdentityOf(device));
    }

    public async ValueTask<DeviceIdentity> CreateDeviceAsync(NewDevice device, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(device);
        var authentication = device.CredentialType switch
        {
            DeviceCredentialType.Sas => new AuthenticationMechanism
            {
                Type = AuthenticationType.Sas,
                SymmetricKey = new SymmetricKey { PrimaryKey = device.PrimaryKey, SecondaryKey = device.SecondaryKey },
            },
            DeviceCredentialType.SelfSigned => new AuthenticationMechanism
            {
                Type = AuthenticationType.SelfSigned,
                X509Thumbprint = new X509Thumbprint { PrimaryThumbprint = device.PrimaryThumbprint, SecondaryThumbprint = device.SecondaryThumbprint },
            },
            DeviceCredentialType.CertificateAuthority => new AuthenticationMechanism { Type = AuthenticationType.CertificateAuthority },
            _ => new AuthenticationMechanism { Type = AuthenticationType.None },
        };
        try
        {
            var created = await identities.CreateDeviceAsync(new Device
            {
                DeviceId = device.DeviceId,
                Status = device.Status == ContractStatus.Disabled ? RegistryStatus.Disabled : RegistryStatus.Enabled,
                StatusReason = device.StatusReason,
                Authentication = authentication,
            }, cancellationToken).ConfigureAwait(false);
            return IdentityOf(created);
        }
        catch (IotHubException ex)
        {
            throw Translate(ex);
        }
    }

    public ValueTask<DeviceTwin?> GetTwinAsync(string deviceId, string? moduleId, CancellationToken cancellationToken)
    {
        try
        {
            return ValueTask.FromResult<DeviceTwin?>(TwinOf(twins.GetTwin(deviceId, moduleId)));
        }
        catch (IotHubException ex) when (ex.Code is IotHubErrorCode.DeviceNotFound or IotHubErrorCode.ModuleNotFound)
        {
            return ValueTask.FromResult<DeviceTwin?>(null);
        }
        catch (IotHubException ex)
        {
            throw Translate(ex);
        }
    }

    public async ValueTask<DeviceTwin> UpdateTwinAsync(TwinUpdate update, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(update);
        var patch = new JsonObject();
        if (update.Tags is { } tags)
        {
            patch["tags"] = JsonNode.Parse(tags.GetRawText());
        }

        if (update.Desired is { } desired)
        {
            patch["properties"] = new JsonObject { ["desired"] = JsonNode.Parse(desired.GetRawText()) };
        }

        try
        {
            var twin = await twins.UpdateTwinAsync(update.DeviceId, update.ModuleId, JsonSerializer.SerializeToUtf8Bytes(patch), update.ETag, cancellationToken)
                .ConfigureAwait(false);
            return TwinOf(twin);
        }
        catch (IotHubException ex)
        {
            throw Translate(ex);
        }
    }

    public async ValueTask<MethodInvocationResult> InvokeMethodAsync(MethodInvocation invocation, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(invocation);
        try
        {
            var result = await methods.InvokeAsync(new MethodRequest
            {
                DeviceId = invocation.DeviceId,
                ModuleId = invocation.ModuleId,
                MethodName = invocation.MethodName,
                Payload = invocation.Payload is { } payload ? Encoding.UTF8.GetBytes(payload.GetRawText()) : default,
                ResponseTimeout = invocation.ResponseTimeout == TimeSpan.Zero ? TimeSpan.FromSeconds(30) : invocation.ResponseTimeout,
                ConnectTimeout = invocation.ConnectTimeout,
            }, cancellationToken).ConfigureAwait(false);
            return new MethodInvocationResult
            {
                Status = result.Status,
                Payload = result.Payload is null ? null : JsonDocument.Parse(result.Payload).RootElement.Clone(),
            };
        }
        catch (IotHubException ex)
        {
            throw Translate(ex);
        }
    }

    public async ValueTask SendCloudToDeviceAsync(Management.CloudToDeviceMessage message, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(message);
        try
        {
            await cloudToDevice.SendAsync(message.DeviceId, new CloudToDeviceRequest
            {
                Body = message.Body,
                MessageId = message.MessageId,
                CorrelationId = message.CorrelationId,
                TimeToLive = message.ExpiresAt is { } expiresAt ? expiresAt - time.GetUtcNow() : null,
                Properties = message.Properties?.ToDictionary(static pair => pair.Key, static pair => (string?)pair.Value, StringComparer.Ordinal)
                    ?? new Dictionary<string, string?>(),
            }, cancellationToken).ConfigureAwait(false);
        }
        catch (IotHubException ex)
        {
            throw Translate(ex);
        }
    }

    private DeviceIdentity IdentityOf(Device device) => new()
    {
        DeviceId = device.DeviceId,
        GenerationId = device.GenerationId ?? "",
        ETag = device.ETag ?? "",
        Status = device.Status == RegistryStatus.Disabled ? ContractStatus.Disabled : ContractStatus.Enabled,
        StatusReason = device.StatusReason,
        CredentialType = (device.Authentication?.Type ?? AuthenticationType.None) switch
        {
            AuthenticationType.Sas => DeviceCredentialType.Sas,
            AuthenticationType.SelfSigned => DeviceCredentialType.SelfSigned,
            AuthenticationType.CertificateAuthority => DeviceCredentialType.CertificateAuthority,
            _ => DeviceCredentialType.None,
        },
        IsConnected = connections.ConnectionStateOf(device.DeviceId, null).Connected,
        LastActivityTime = device.LastActivityTime,
    };

    private static DeviceTwin TwinOf(byte[] json)
    {
        using var document = JsonDocument.Parse(json);
        var root = document.RootElement;
        var properties = root.GetProperty("properties");
        return new DeviceTwin
        {
            DeviceId = root.GetProperty("deviceId").GetString()!,
            ModuleId = root.TryGetProperty("moduleId", out var module) ? module.GetString() : null,
            ETag = root.GetProperty("etag").GetString()!,
            Version = root.GetProperty("version").GetInt64(),
            Tags = root.GetProperty("tags").Clone(),
            Desired = properties.GetProperty("desired").Clone(),
            Reported = properties.GetProperty("reported").Clone(),
        };
    }

    private static T Translate<T>(Func<T> read)
    {
        try
        {
            return read();
        }
        catch (IotHubException ex)
        {
            throw Translate(ex);
        }
    }

    private static HubServiceException Translate(IotHubException error) => new(error.Number, error.Message);
}
