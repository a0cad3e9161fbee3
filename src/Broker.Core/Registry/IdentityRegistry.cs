using System.Buffers;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization.Metadata;
using Broker.Core.Errors;
using Broker.Core.Security;
using Broker.Core.Storage;

namespace Broker.Core.Registry;

/// <summary>
/// The identity registry over the hub store. A device is the registry record <c>{deviceId}</c> and a module
/// <c>{deviceId}/{moduleId}</c>, both in the device's partition. Read-check-write sequences are serialized per
/// partition, and every mutation returns only once its redo record is durable. Failures are
/// <see cref="IotHubException"/>s with IoT Hub's codes.
/// </summary>
public sealed class IdentityRegistry
{
    /// <summary>The most identities one list call returns, as IoT Hub.</summary>
    public const int MaxListCount = 1000;

    /// <summary>Raised once a disable or delete is durable, so live connections of that identity can be closed.</summary>
    public event Action<IdentityChange>? IdentityChanged;

    private const int MaxKeyBytes = 2 * IdentityRules.MaxIdLength + 1;

    private readonly IHubStore _store;
    private readonly TimeProvider _time;
    private readonly Lock[] _partitionLocks;

    /// <summary>Creates the registry over <paramref name="store"/>; <paramref name="time"/> stamps status changes.</summary>
    public IdentityRegistry(IHubStore store, TimeProvider? time = null)
    {
        ArgumentNullException.ThrowIfNull(store);
        _store = store;
        _time = time ?? TimeProvider.System;
        _partitionLocks = new Lock[store.PartitionCount];
        for (int i = 0; i < _partitionLocks.Length; i++)
        {
            _partitionLocks[i] = new Lock();
        }
    }

    /// <summary>The device, or null if it is not registered (or the id is not a valid device id).</summary>
    public Device? TryGetDevice(string deviceId)
    {
        ArgumentNullException.ThrowIfNull(deviceId);
        return IdentityRules.IsValidDeviceId(deviceId)
            ? Read(_store.GetPartitionFor(deviceId).State, deviceId, null, RegistryJsonContext.Default.Device)
            : null;
    }

    /// <summary>The device; 404001 DeviceNotFound if it is not registered.</summary>
    public Device GetDevice(string deviceId)
    {
        RequireDeviceId(deviceId);
        return TryGetDevice(deviceId) ?? throw IotHubErrors.DeviceNotFound(deviceId);
    }

    /// <summary>
    /// Registers a device. The hub assigns the generation id and etag and generates missing symmetric keys;
    /// 409001 DeviceAlreadyExists if the id is taken, 400004 ArgumentInvalid for bad ids, keys or thumbprints.
    /// </summary>
    public async ValueTask<Device> CreateDeviceAsync(Device device, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(device);
        RequireDeviceId(device.DeviceId);
        RequireStatus(device.Status, device.StatusReason);
        var capabilities = device.Capabilities ?? new DeviceCapabilities();
        var generationId = NewGenerationId();
        var created = new Device
        {
            DeviceId = device.DeviceId,
            GenerationId = generationId,
            ETag = ETags.New(),
            Status = device.Status,
            StatusReason = device.StatusReason,
            Authentication = NormalizeAuthentication(device.Authentication, existing: null),
            Capabilities = capabilities,
            DeviceScope = device.DeviceScope ?? EdgeScope(device.DeviceId, generationId, capabilities),
            ParentScopes = device.ParentScopes,
        };

        var partition = _store.GetPartitionFor(device.DeviceId);
        long address;
        lock (_partitionLocks[partition.Index])
        {
            if (Exists(partition.State, device.DeviceId, null))
            {
                throw IotHubErrors.DeviceAlreadyExists(device.DeviceId);
            }

            address = Write(partition.State, device.DeviceId, null, created, RegistryJsonContext.Default.Device);
        }

        await partition.State.WaitDurableAsync(address, cancellationToken).ConfigureAwait(false);
        return created;
    }

    /// <summary>
    /// Replaces a device's updatable fields (status, statusReason, authentication, capabilities, scopes) if
    /// <paramref name="ifMatch"/> accepts its etag (<c>*</c> or none: any). Missing authentication, empty SAS
    /// keys, capabilities and scopes keep their stored values. 404001 if absent, 412001 PreconditionFailed on
    /// an etag mismatch.
    /// </summary>
    public async ValueTask<Device> UpdateDeviceAsync(Device device, string? ifMatch, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(device);
        RequireDeviceId(device.DeviceId);
        RequireStatus(device.Status, device.StatusReason);
        var partition = _store.GetPartitionFor(device.DeviceId);
        Device updated;
        long address;
        lock (_partitionLocks[partition.Index])
        {
            var existing = Read(partition.State, device.DeviceId, null, RegistryJsonContext.Default.Device)
                ?? throw IotHubErrors.DeviceNotFound(device.DeviceId);
            if (!ETags.Matches(ifMatch, existing.ETag))
            {
                throw IotHubErrors.PreconditionFailed($"device {device.DeviceId}", existing.ETag ?? "");
            }

            var capabilities = device.Capabilities ?? existing.Capabilities ?? new DeviceCapabilities();
            updated = existing with
            {
                ETag = ETags.New(existing.ETag),
                Status = device.Status,
                StatusReason = device.StatusReason,
                StatusUpdatedTime = device.Status != existing.Status ? _time.GetUtcNow() : existing.StatusUpdatedTime,
                Authentication = NormalizeAuthentication(device.Authentication, existing.Authentication),
                Capabilities = capabilities,
                DeviceScope = device.DeviceScope ?? existing.DeviceScope ?? EdgeScope(existing.DeviceId, existing.GenerationId, capabilities),
                ParentScopes = device.ParentScopes ?? existing.ParentScopes,
            };
            address = Write(partition.State, device.DeviceId, null, updated, RegistryJsonContext.Default.Device);
        }

        await partition.State.WaitDurableAsync(address, cancellationToken).ConfigureAwait(false);
        if (updated.Status == DeviceStatus.Disabled)
        {
            IdentityChanged?.Invoke(new IdentityChange(updated.DeviceId, null, IdentityChangeKind.Disabled));
        }
        return updated;
    }

    /// <summary>Deletes a device and its modules if <paramref name="ifMatch"/> accepts its etag; 404001, 412001.</summary>
    public async ValueTask DeleteDeviceAsync(string deviceId, string? ifMatch = null, CancellationToken cancellationToken = default)
    {
        RequireDeviceId(deviceId);
        var partition = _store.GetPartitionFor(deviceId);
        long address;
        lock (_partitionLocks[partition.Index])
        {
            var existing = Read(partition.State, deviceId, null, RegistryJsonContext.Default.Device)
                ?? throw IotHubErrors.DeviceNotFound(deviceId);
            if (!ETags.Matches(ifMatch, existing.ETag))
            {
                throw IotHubErrors.PreconditionFailed($"device {deviceId}", existing.ETag ?? "");
            }

            var modules = new KeyCollector();
            partition.State.Scan(StateRecordKind.Registry, Encoding.ASCII.GetBytes(deviceId + "/"), modules);
            address = partition.State.Delete(StateRecordKind.Registry, Encoding.ASCII.GetBytes(deviceId));
            foreach (var moduleKey in modules.Keys)
            {
                address = Math.Max(address, partition.State.Delete(StateRecordKind.Registry, moduleKey));
            }
        }

        await partition.State.WaitDurableAsync(address, cancellationToken).ConfigureAwait(false);
        IdentityChanged?.Invoke(new IdentityChange(deviceId, null, IdentityChangeKind.Deleted));
    }

    /// <summary>Up to <paramref name="maxCount"/> (at most 1000) devices, ordered by id within the ones read.</summary>
    public IReadOnlyList<Device> ListDevices(int maxCount = MaxListCount) => CollectDevices(Math.Clamp(maxCount, 0, MaxListCount));

    /// <summary>Every device, ordered by id (queries and other admin paths: it reads the whole registry).</summary>
    public IReadOnlyList<Device> ListAllDevices() => CollectDevices(int.MaxValue);

    private List<Device> CollectDevices(int maxCount)
    {
        var collector = new DeviceCollector(maxCount);
        for (int i = 0; i < _store.PartitionCount && collector.Devices.Count < maxCount; i++)
        {
            _store.GetPartition(i).State.Scan(StateRecordKind.Registry, default, collector);
        }

        collector.Devices.Sort(static (a, b) => string.CompareOrdinal(a.DeviceId, b.DeviceId));
        return collector.Devices;
    }

    /// <summary>The module, or null if it or its device is not registered.</summary>
    public Module? TryGetModule(string deviceId, string moduleId)
    {
        ArgumentNullException.ThrowIfNull(deviceId);
        ArgumentNullException.ThrowIfNull(moduleId);
        return IdentityRules.IsValidDeviceId(deviceId) && IdentityRules.IsValidModuleId(moduleId)
            ? Read(_store.GetPartitionFor(deviceId).State, deviceId, moduleId, RegistryJsonContext.Default.Module)
            : null;
    }

    /// <summary>The module; 404001 if the device is not registered, 404010 ModuleNotFound if the module is not.</summary>
    public Module GetModule(string deviceId, string moduleId)
    {
        RequireDeviceId(deviceId);
        RequireModuleId(moduleId);
        var state = _store.GetPartitionFor(deviceId).State;
        return Read(state, deviceId, moduleId, RegistryJsonContext.Default.Module)
            ?? throw (Exists(state, deviceId, null) ? IotHubErrors.ModuleNotFound(deviceId, moduleId) : IotHubErrors.DeviceNotFound(deviceId));
    }

    /// <summary>Registers a module on an existing device; 404001 if the device is absent, 409301 if the module exists.</summary>
    public async ValueTask<Module> CreateModuleAsync(Module module, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(module);
        RequireDeviceId(module.DeviceId);
        RequireModuleId(module.ModuleId);
        var created = new Module
        {
            ModuleId = module.ModuleId,
            ManagedBy = module.ManagedBy,
            DeviceId = module.DeviceId,
            GenerationId = NewGenerationId(),
            ETag = ETags.New(),
            Authentication = NormalizeAuthentication(module.Authentication, existing: null),
        };

        var partition = _store.GetPartitionFor(module.DeviceId);
        long address;
        lock (_partitionLocks[partition.Index])
        {
            if (!Exists(partition.State, module.DeviceId, null))
            {
                throw IotHubErrors.DeviceNotFound(module.DeviceId);
            }

            if (Exists(partition.State, module.DeviceId, module.ModuleId))
            {
                throw IotHubErrors.ModuleAlreadyExists(module.DeviceId, module.ModuleId);
            }

            address = Write(partition.State, module.DeviceId, module.ModuleId, created, RegistryJsonContext.Default.Module);
        }

        await partition.State.WaitDurableAsync(address, cancellationToken).ConfigureAwait(false);
        return created;
    }

    /// <summary>Replaces a module's authentication and managedBy if <paramref name="ifMatch"/> accepts its etag; 404010, 412001.</summary>
    public async ValueTask<Module> UpdateModuleAsync(Module module, string? ifMatch, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(module);
        RequireDeviceId(module.DeviceId);
        RequireModuleId(module.ModuleId);
        var partition = _store.GetPartitionFor(module.DeviceId);
        Module updated;
        long address;
        lock (_partitionLocks[partition.Index])
        {
            var existing = ReadModuleOrThrow(partition.State, module.DeviceId, module.ModuleId);
            if (!ETags.Matches(ifMatch, existing.ETag))
            {
                throw IotHubErrors.PreconditionFailed($"module {module.DeviceId}/{module.ModuleId}", existing.ETag ?? "");
            }

            updated = existing with
            {
                ETag = ETags.New(existing.ETag),
                ManagedBy = module.ManagedBy ?? existing.ManagedBy,
                Authentication = NormalizeAuthentication(module.Authentication, existing.Authentication),
            };
            address = Write(partition.State, module.DeviceId, module.ModuleId, updated, RegistryJsonContext.Default.Module);
        }

        await partition.State.WaitDurableAsync(address, cancellationToken).ConfigureAwait(false);
        return updated;
    }

    /// <summary>Deletes a module if <paramref name="ifMatch"/> accepts its etag; 404001/404010, 412001.</summary>
    public async ValueTask DeleteModuleAsync(string deviceId, string moduleId, string? ifMatch = null, CancellationToken cancellationToken = default)
    {
        RequireDeviceId(deviceId);
        RequireModuleId(moduleId);
        var partition = _store.GetPartitionFor(deviceId);
        long address;
        lock (_partitionLocks[partition.Index])
        {
            var existing = ReadModuleOrThrow(partition.State, deviceId, moduleId);
            if (!ETags.Matches(ifMatch, existing.ETag))
            {
                throw IotHubErrors.PreconditionFailed($"module {deviceId}/{moduleId}", existing.ETag ?? "");
            }

            address = partition.State.Delete(StateRecordKind.Registry, Encoding.ASCII.GetBytes(deviceId + "/" + moduleId));
        }

        await partition.State.WaitDurableAsync(address, cancellationToken).ConfigureAwait(false);
        IdentityChanged?.Invoke(new IdentityChange(deviceId, moduleId, IdentityChangeKind.Deleted));
    }

    /// <summary>The modules of a device, ordered by id; 404001 if the device is not registered.</summary>
    public IReadOnlyList<Module> ListModules(string deviceId)
    {
        RequireDeviceId(deviceId);
        var state = _store.GetPartitionFor(deviceId).State;
        if (!Exists(state, deviceId, null))
        {
            throw IotHubErrors.DeviceNotFound(deviceId);
        }

        var collector = new ModuleCollector();
        state.Scan(StateRecordKind.Registry, Encoding.ASCII.GetBytes(deviceId + "/"), collector);
        collector.Modules.Sort(static (a, b) => string.CompareOrdinal(a.ModuleId, b.ModuleId));
        return collector.Modules;
    }

    private Module ReadModuleOrThrow(IStateStore state, string deviceId, string moduleId)
        => Read(state, deviceId, moduleId, RegistryJsonContext.Default.Module)
            ?? throw (Exists(state, deviceId, null) ? IotHubErrors.ModuleNotFound(deviceId, moduleId) : IotHubErrors.DeviceNotFound(deviceId));

    private static void RequireDeviceId(string? deviceId)
    {
        if (deviceId is null || !IdentityRules.IsValidDeviceId(deviceId))
        {
            throw IotHubErrors.ArgumentInvalid(
                $"Device id '{deviceId}' is invalid: it must be 1 to {IdentityRules.MaxIdLength} ASCII letters, digits or - . + % _ # * ? ! ( ) , : = @ $ '.");
        }
    }

    private static void RequireModuleId(string? moduleId)
    {
        if (moduleId is null || !IdentityRules.IsValidModuleId(moduleId))
        {
            throw IotHubErrors.ArgumentInvalid(
                $"Module id '{moduleId}' is invalid: it must be 1 to {IdentityRules.MaxIdLength} ASCII letters, digits or - . + % _ # * ? ! ( ) , : = @ $ '.");
        }
    }

    private static void RequireStatus(DeviceStatus status, string? statusReason)
    {
        if (!Enum.IsDefined(status))
        {
            throw IotHubErrors.ArgumentInvalid("Status must be 'enabled' or 'disabled'.");
        }

        if (statusReason is { Length: > IdentityRules.MaxStatusReasonLength })
        {
            throw IotHubErrors.ArgumentInvalid($"statusReason must not exceed {IdentityRules.MaxStatusReasonLength} characters.");
        }
    }

    /// <summary>
    /// Validates requested credentials and fills in what the hub supplies: SAS keys left empty are generated
    /// (or, on update, kept from a SAS identity); no authentication at all keeps the existing one or means SAS.
    /// </summary>
    private static AuthenticationMechanism NormalizeAuthentication(AuthenticationMechanism? requested, AuthenticationMechanism? existing)
    {
        if (requested is null)
        {
            return existing ?? Sas(SymmetricKeys.Generate(), SymmetricKeys.Generate());
        }

        switch (requested.Type)
        {
            case AuthenticationType.Sas:
                var primary = NullIfEmpty(requested.SymmetricKey?.PrimaryKey);
                var secondary = NullIfEmpty(requested.SymmetricKey?.SecondaryKey);
                if (primary is null && secondary is null && existing is { Type: AuthenticationType.Sas, SymmetricKey: { } kept })
                {
                    return Sas(kept.PrimaryKey ?? SymmetricKeys.Generate(), kept.SecondaryKey ?? SymmetricKeys.Generate());
                }

                RequireKey(primary, "primaryKey");
                RequireKey(secondary, "secondaryKey");
                return Sas(primary ?? SymmetricKeys.Generate(), secondary ?? SymmetricKeys.Generate());

            case AuthenticationType.SelfSigned:
                var primaryThumbprint = NullIfEmpty(requested.X509Thumbprint?.PrimaryThumbprint);
                var secondaryThumbprint = NullIfEmpty(requested.X509Thumbprint?.SecondaryThumbprint);
                if (primaryThumbprint is null && secondaryThumbprint is null)
                {
                    throw IotHubErrors.ArgumentInvalid("Authentication type selfSigned requires a primary or secondary thumbprint.");
                }

                RequireThumbprint(primaryThumbprint, "primaryThumbprint");
                RequireThumbprint(secondaryThumbprint, "secondaryThumbprint");
                return new AuthenticationMechanism
                {
                    Type = AuthenticationType.SelfSigned,
                    SymmetricKey = new SymmetricKey(),
                    X509Thumbprint = new X509Thumbprint { PrimaryThumbprint = primaryThumbprint, SecondaryThumbprint = secondaryThumbprint },
                };

            case AuthenticationType.CertificateAuthority:
            case AuthenticationType.None:
                return new AuthenticationMechanism { Type = requested.Type, SymmetricKey = new SymmetricKey(), X509Thumbprint = new X509Thumbprint() };

            default:
                throw IotHubErrors.ArgumentInvalid("Authentication type must be sas, selfSigned, certificateAuthority or none.");
        }
    }

    private static AuthenticationMechanism Sas(string primaryKey, string secondaryKey) => new()
    {
        Type = AuthenticationType.Sas,
        SymmetricKey = new SymmetricKey { PrimaryKey = primaryKey, SecondaryKey = secondaryKey },
        X509Thumbprint = new X509Thumbprint(),
    };

    private static void RequireKey(string? key, string name)
    {
        if (key is not null && !IdentityRules.IsValidSymmetricKey(key))
        {
            throw IotHubErrors.ArgumentInvalid(
                $"The {name} must be base64 of {IdentityRules.MinKeyBytes} to {IdentityRules.MaxKeyBytes} bytes.");
        }
    }

    private static void RequireThumbprint(string? thumbprint, string name)
    {
        if (thumbprint is not null && !IdentityRules.IsValidThumbprint(thumbprint))
        {
            throw IotHubErrors.ArgumentInvalid($"The {name} must be 40 (SHA-1) or 64 (SHA-256) hexadecimal digits.");
        }
    }

    private static string? NullIfEmpty(string? value) => string.IsNullOrWhiteSpace(value) ? null : value;

    /// <summary>IoT Hub gives an Edge device the scope <c>ms-azure-iot-edge://{deviceId}-{generationId}</c>.</summary>
    private static string? EdgeScope(string deviceId, string? generationId, DeviceCapabilities capabilities)
        => capabilities.IotEdge ? $"ms-azure-iot-edge://{deviceId}-{generationId}" : null;

    /// <summary>An 18-digit number, shaped like IoT Hub's generation ids; random so a re-created id never repeats one.</summary>
    private static string NewGenerationId()
    {
        long high = RandomNumberGenerator.GetInt32(100_000_000, 1_000_000_000);
        long low = RandomNumberGenerator.GetInt32(0, 1_000_000_000);
        return (high * 1_000_000_000L + low).ToString(System.Globalization.CultureInfo.InvariantCulture);
    }

    private static int ComposeKey(string deviceId, string? moduleId, Span<byte> destination)
    {
        int length = Encoding.ASCII.GetBytes(deviceId, destination);
        if (moduleId is not null)
        {
            destination[length++] = (byte)'/';
            length += Encoding.ASCII.GetBytes(moduleId, destination[length..]);
        }

        return length;
    }

    private static bool Exists(IStateStore state, string deviceId, string? moduleId)
    {
        Span<byte> key = stackalloc byte[MaxKeyBytes];
        return state.TryRead(StateRecordKind.Registry, key[..ComposeKey(deviceId, moduleId, key)], new ArrayBufferWriter<byte>(512));
    }

    private static T? Read<T>(IStateStore state, string deviceId, string? moduleId, JsonTypeInfo<T> typeInfo)
        where T : class
    {
        Span<byte> key = stackalloc byte[MaxKeyBytes];
        var value = new ArrayBufferWriter<byte>(512);
        return state.TryRead(StateRecordKind.Registry, key[..ComposeKey(deviceId, moduleId, key)], value)
            ? JsonSerializer.Deserialize(value.WrittenSpan, typeInfo)
            : null;
    }

    private static long Write<T>(IStateStore state, string deviceId, string? moduleId, T value, JsonTypeInfo<T> typeInfo)
    {
        Span<byte> key = stackalloc byte[MaxKeyBytes];
        return state.Upsert(StateRecordKind.Registry, key[..ComposeKey(deviceId, moduleId, key)], JsonSerializer.SerializeToUtf8Bytes(value, typeInfo));
    }

    private sealed class KeyCollector : IStateVisitor
    {
        public List<byte[]> Keys { get; } = [];

        public bool Visit(ReadOnlySpan<byte> key, ReadOnlySpan<byte> value)
        {
            Keys.Add(key.ToArray());
            return true;
        }
    }

    private sealed class DeviceCollector(int maxCount) : IStateVisitor
    {
        public List<Device> Devices { get; } = [];

        public bool Visit(ReadOnlySpan<byte> key, ReadOnlySpan<byte> value)
        {
            if (key.IndexOf((byte)'/') >= 0)
            {
                return true; // a module
            }

            if (Devices.Count >= maxCount)
            {
                return false;
            }

            if (JsonSerializer.Deserialize(value, RegistryJsonContext.Default.Device) is { } device)
            {
                Devices.Add(device);
            }

            return true;
        }
    }

    private sealed class ModuleCollector : IStateVisitor
    {
        public List<Module> Modules { get; } = [];

        public bool Visit(ReadOnlySpan<byte> key, ReadOnlySpan<byte> value)
        {
            if (JsonSerializer.Deserialize(value, RegistryJsonContext.Default.Module) is { } module)
            {
                Modules.Add(module);
            }

            return true;
        }
    }
}
