using System.Buffers;
using System.Buffers.Binary;
using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Nodes;
using Broker.Core.Errors;
using Broker.Core.Hub;
using Broker.Core.Registry;
using Broker.Core.Storage;

namespace Broker.Core.Twins;

/// <summary>
/// Device and module twins over the hub store. A twin is the <see cref="StateRecordKind.Twin"/> record of its
/// identity key (<c>deviceId</c> or <c>deviceId/moduleId</c>) in the device's partition, written only once
/// something changes (until then the identity has the default twin: empty sections at <c>$version</c> 1). Changes
/// are serialized per partition, made synchronously (so patches from one connection apply in call order) and
/// acknowledged once durable; a durable desired change is pushed to the identity's live connection, never queued.
/// Deleting an identity deletes its twin (a device's also those of its modules). Failures are
/// <see cref="IotHubException"/>s: 404001/404010 for unknown identities, 400004 for rule violations, 412001 for
/// etag mismatches.
/// </summary>
/// <remarks>
/// The device view (<see cref="GetDeviceView"/>) has no <c>$metadata</c>: IoT Hub sends the device only values and
/// <c>$version</c>s, and the SDKs need nothing more. Until a twin is first written, its <c>$lastUpdated</c> stamps
/// read as the current time (nothing records when the identity was created).
/// </remarks>
public sealed class TwinService
{
    /// <summary>
    /// The default for <see cref="MaxStoredTwinBytes"/>: room under the default 256 KB page of the state store's redo
    /// log, which no record may exceed (a record that does not fit on a page stops the log).
    /// </summary>
    public const int DefaultMaxStoredTwinBytes = 192 * 1024;

    private static readonly JsonWriterOptions s_writerOptions = new() { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };
    private static readonly IotHubTimeConverter s_timeConverter = new();

    private readonly IHubStore _store;
    private readonly IdentityRegistry _identities;
    private readonly ConnectionRegistry _connections;
    private readonly TimeProvider _time;
    private readonly Func<string, string?, int>? _pendingCloudToDeviceCount;
    private readonly Lock[] _partitionLocks;

    /// <summary>
    /// Creates the service. <paramref name="pendingCloudToDeviceCount"/> supplies a twin's
    /// <c>cloudToDeviceMessageCount</c> (0 without it).
    /// </summary>
    public TwinService(IHubStore store, IdentityRegistry identities, ConnectionRegistry connections, TimeProvider time,
        Func<string, string?, int>? pendingCloudToDeviceCount = null)
    {
        ArgumentNullException.ThrowIfNull(store);
        ArgumentNullException.ThrowIfNull(identities);
        ArgumentNullException.ThrowIfNull(connections);
        _store = store;
        _identities = identities;
        _connections = connections;
        _time = time ?? TimeProvider.System;
        _pendingCloudToDeviceCount = pendingCloudToDeviceCount;
        _partitionLocks = new Lock[store.PartitionCount];
        for (int i = 0; i < _partitionLocks.Length; i++)
        {
            _partitionLocks[i] = new Lock();
        }

        identities.IdentityChanged += OnIdentityChanged;
    }

    /// <summary>
    /// The largest stored twin record (values, <c>$metadata</c> and JSON escaping included). IoT Hub's section limits
    /// bound what is counted, not the JSON: many tiny keys (each with its metadata) or strings of escaped control
    /// characters can make a twin within those limits several hundred KB long. A change that would store more is
    /// refused with 400004; keep this below the state log's page size.
    /// </summary>
    public int MaxStoredTwinBytes { get; init; } = DefaultMaxStoredTwinBytes;

    /// <summary>
    /// The device's view of its twin, as the MQTT <c>$iothub/twin/GET</c> reply carries it:
    /// <c>{"desired":{…,"$version":n},"reported":{…,"$version":m}}</c> in UTF-8 (no <c>properties</c> wrapper, no
    /// tags, no <c>$metadata</c>).
    /// </summary>
    public byte[] GetDeviceView(string deviceId, string? moduleId)
    {
        var identity = Resolve(deviceId, moduleId);
        var twin = Load(_store.GetPartitionFor(deviceId).State, identity);
        var buffer = new ArrayBufferWriter<byte>(256);
        using (var writer = new Utf8JsonWriter(buffer, s_writerOptions))
        {
            writer.WriteStartObject();
            writer.WritePropertyName("desired");
            WriteSection(writer, twin.Desired, withMetadata: false);
            writer.WritePropertyName("reported");
            WriteSection(writer, twin.Reported, withMetadata: false);
            writer.WriteEndObject();
        }

        return buffer.WrittenSpan.ToArray();
    }

    /// <summary>
    /// Applies a device's reported-properties merge patch and returns the new reported <c>$version</c> once the
    /// change is durable. Parsing, validation and the change itself happen before this returns (only the wait for
    /// durability is asynchronous), so patches issued one after another apply in that order.
    /// </summary>
    public async ValueTask<long> UpdateReportedAsync(string deviceId, string? moduleId, ReadOnlyMemory<byte> patch,
        CancellationToken cancellationToken = default)
    {
        var identity = Resolve(deviceId, moduleId);
        var reportedPatch = TwinRules.ValidateSection(TwinRules.ParseObject(patch.Span, "reported properties patch"), "reported", isPatch: true);
        var partition = _store.GetPartitionFor(deviceId);
        long version;
        long address;
        lock (_partitionLocks[partition.Index])
        {
            identity = Resolve(deviceId, moduleId); // again under the lock: a delete racing this patch leaves no orphan twin
            var twin = Load(partition.State, identity);
            var reported = twin.Reported;
            TwinMerge.Apply(reported.Properties, reported.Metadata, reportedPatch, TwinMerge.Stamp(_time.GetUtcNow()), version: null);
            TwinRules.RequireSize(reported.Properties, TwinRules.MaxReportedBytes, "reported properties");
            version = ++reported.Version;
            twin.Version++;
            address = Save(partition.State, identity, twin);
        }

        await partition.State.WaitDurableAsync(address, cancellationToken).ConfigureAwait(false);
        return version;
    }

    /// <summary>The full twin document (UTF-8 JSON) as IoT Hub's <c>GET /twins/{id}</c> returns it.</summary>
    public byte[] GetTwin(string deviceId, string? moduleId)
    {
        var identity = Resolve(deviceId, moduleId);
        return WriteTwin(identity, Load(_store.GetPartitionFor(deviceId).State, identity));
    }

    /// <summary>
    /// <c>PATCH /twins/{id}</c>: merges <c>{"tags":{…},"properties":{"desired":{…}}}</c> into the twin if
    /// <paramref name="ifMatch"/> accepts its etag, and returns the full twin once the change is durable. A
    /// non-empty <c>properties.reported</c> is refused (devices own it); other root members are ignored.
    /// </summary>
    public async ValueTask<byte[]> UpdateTwinAsync(string deviceId, string? moduleId, ReadOnlyMemory<byte> patch, string? ifMatch,
        CancellationToken cancellationToken = default)
    {
        var identity = Resolve(deviceId, moduleId);
        var request = ParseServiceRequest(patch.Span, isPatch: true);
        return await ChangeAsync(identity, request, ifMatch, replace: false, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// <c>PUT /twins/{id}</c>: replaces the tags and desired properties with those of <paramref name="twin"/> (a
    /// missing section means empty) if <paramref name="ifMatch"/> accepts the etag, and returns the full twin once
    /// durable. Reported properties and other root members in the body are ignored. The device is sent the
    /// difference as a desired patch.
    /// </summary>
    public async ValueTask<byte[]> ReplaceTwinAsync(string deviceId, string? moduleId, ReadOnlyMemory<byte> twin, string? ifMatch,
        CancellationToken cancellationToken = default)
    {
        var identity = Resolve(deviceId, moduleId);
        var request = ParseServiceRequest(twin.Span, isPatch: false);
        return await ChangeAsync(identity, request, ifMatch, replace: true, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>The twin etag of a twin version: base64 of the version as 8 big-endian bytes (version 7 → <c>AAAAAAAAAAc=</c>).</summary>
    public static string ETagOf(long version)
    {
        Span<byte> bytes = stackalloc byte[8];
        BinaryPrimitives.WriteInt64BigEndian(bytes, version);
        return Convert.ToBase64String(bytes);
    }

    private async ValueTask<byte[]> ChangeAsync(Identity identity, ServiceRequest request, string? ifMatch, bool replace,
        CancellationToken cancellationToken)
    {
        var partition = _store.GetPartitionFor(identity.DeviceId);
        byte[] document;
        long address;
        lock (_partitionLocks[partition.Index])
        {
            identity = Resolve(identity.DeviceId, identity.ModuleId); // again under the lock: a racing delete leaves no orphan twin
            var twin = Load(partition.State, identity);
            var etag = ETagOf(twin.Version);
            if (!ETags.Matches(ifMatch, etag))
            {
                throw IotHubErrors.PreconditionFailed($"the twin of {identity.Describe()}", etag);
            }

            var tagsPatch = replace ? TwinMerge.Diff(twin.Tags, request.Tags ?? new JsonObject())
                : request.ClearTags ? TwinMerge.DeleteAll(twin.Tags) : request.Tags;
            var desiredPatch = replace ? TwinMerge.Diff(twin.Desired.Properties, request.Desired ?? new JsonObject())
                : request.ClearDesired ? TwinMerge.DeleteAll(twin.Desired.Properties) : request.Desired;
            if (tagsPatch is null && desiredPatch is null)
            {
                return WriteTwin(identity, twin); // nothing to change
            }

            var stamp = TwinMerge.Stamp(_time.GetUtcNow());
            if (tagsPatch is not null)
            {
                TwinMerge.Apply(twin.Tags, null, tagsPatch, stamp, null);
                TwinRules.RequireSize(twin.Tags, TwinRules.MaxTagsBytes, "tags");
            }

            byte[]? notification = null;
            if (desiredPatch is not null)
            {
                var desired = twin.Desired;
                long version = desired.Version + 1;
                TwinMerge.Apply(desired.Properties, desired.Metadata, desiredPatch, stamp, version);
                TwinRules.RequireSize(desired.Properties, TwinRules.MaxDesiredBytes, "desired properties");
                desired.Version = version;
                notification = WriteDesiredNotification(desiredPatch, version);
            }

            twin.Version++;
            address = Save(partition.State, identity, twin);
            if (notification is not null)
            {
                // Registered under the lock: durability callbacks run in registration order, so the device gets
                // its desired patches in version order.
                partition.State.WhenDurable(address, new DesiredPush(_connections, identity.DeviceId, identity.ModuleId, twin.Desired.Version, notification), 0);
            }

            document = WriteTwin(identity, twin);
        }

        await partition.State.WaitDurableAsync(address, cancellationToken).ConfigureAwait(false);
        return document;
    }

    private static ServiceRequest ParseServiceRequest(ReadOnlySpan<byte> body, bool isPatch)
    {
        var what = isPatch ? "twin patch" : "twin";
        var root = TwinRules.ParseObject(body, what);
        var request = new ServiceRequest();
        if (root.TryGetPropertyValue("tags", out var tags))
        {
            if (tags is null)
            {
                request.ClearTags = isPatch;
            }
            else
            {
                request.Tags = TwinRules.ValidateSection(tags, "tags", isPatch);
            }
        }

        if (root.TryGetPropertyValue("properties", out var propertiesNode) && propertiesNode is not null)
        {
            if (propertiesNode is not JsonObject properties)
            {
                throw IotHubErrors.ArgumentInvalid($"'properties' of the {what} must be a JSON object.");
            }

            if (properties.TryGetPropertyValue("desired", out var desired))
            {
                if (desired is null)
                {
                    request.ClearDesired = isPatch;
                }
                else
                {
                    request.Desired = TwinRules.ValidateSection(desired, "properties.desired", isPatch);
                }
            }

            if (isPatch && properties.TryGetPropertyValue("reported", out var reported) && reported is not null
                && (reported is not JsonObject reportedObject || reportedObject.Any(static p => p.Key is not (TwinRules.VersionKey or TwinRules.MetadataKey))))
            {
                throw IotHubErrors.ArgumentInvalid("Reported properties can only be updated by the device; a twin patch may change tags and desired properties.");
            }
        }

        return request;
    }

    /// <summary>The applied desired patch (nulls kept: they delete) plus <c>"$version"</c>.</summary>
    private static byte[] WriteDesiredNotification(JsonObject patch, long version)
    {
        var buffer = new ArrayBufferWriter<byte>(256);
        using (var writer = new Utf8JsonWriter(buffer, s_writerOptions))
        {
            writer.WriteStartObject();
            WriteMembers(writer, patch);
            writer.WriteNumber(TwinRules.VersionKey, version);
            writer.WriteEndObject();
        }

        return buffer.WrittenSpan.ToArray();
    }

    private byte[] WriteTwin(Identity identity, StoredTwin twin)
    {
        var (connected, since) = _connections.ConnectionStateOf(identity.DeviceId, identity.ModuleId);
        var lastActivity = connected && since is { } connectedAt && connectedAt > identity.LastActivityTime ? connectedAt : identity.LastActivityTime;
        var buffer = new ArrayBufferWriter<byte>(1024);
        using (var writer = new Utf8JsonWriter(buffer, s_writerOptions))
        {
            writer.WriteStartObject();
            writer.WriteString("deviceId", identity.DeviceId);
            if (identity.ModuleId is not null)
            {
                writer.WriteString("moduleId", identity.ModuleId);
            }

            writer.WriteString("etag", ETagOf(twin.Version));
            writer.WriteString("deviceEtag", identity.ETag);
            writer.WriteString("status", identity.Status == DeviceStatus.Disabled ? "disabled" : "enabled");
            if (identity.StatusReason is not null)
            {
                writer.WriteString("statusReason", identity.StatusReason);
            }

            WriteTime(writer, "statusUpdateTime", identity.StatusUpdatedTime);
            writer.WriteString("connectionState", connected ? "Connected" : "Disconnected");
            WriteTime(writer, "lastActivityTime", lastActivity);
            writer.WriteNumber("cloudToDeviceMessageCount", _pendingCloudToDeviceCount?.Invoke(identity.DeviceId, identity.ModuleId) ?? 0);
            writer.WriteString("authenticationType", AuthenticationTypeName(identity.Authentication?.Type ?? AuthenticationType.Sas));
            writer.WriteStartObject("x509Thumbprint");
            writer.WriteString("primaryThumbprint", identity.Authentication?.X509Thumbprint?.PrimaryThumbprint);
            writer.WriteString("secondaryThumbprint", identity.Authentication?.X509Thumbprint?.SecondaryThumbprint);
            writer.WriteEndObject();
            writer.WriteNumber("version", twin.Version);
            writer.WritePropertyName("tags");
            twin.Tags.WriteTo(writer);
            writer.WriteStartObject("properties");
            writer.WritePropertyName("desired");
            WriteSection(writer, twin.Desired, withMetadata: true);
            writer.WritePropertyName("reported");
            WriteSection(writer, twin.Reported, withMetadata: true);
            writer.WriteEndObject();
            if (identity.Capabilities is { } capabilities)
            {
                writer.WriteStartObject("capabilities");
                writer.WriteBoolean("iotEdge", capabilities.IotEdge);
                writer.WriteEndObject();
            }

            if (identity.DeviceScope is not null)
            {
                writer.WriteString("deviceScope", identity.DeviceScope);
            }

            if (identity.ParentScopes is not null)
            {
                writer.WriteStartArray("parentScopes");
                foreach (var scope in identity.ParentScopes)
                {
                    writer.WriteStringValue(scope);
                }

                writer.WriteEndArray();
            }

            writer.WriteEndObject();
        }

        return buffer.WrittenSpan.ToArray();
    }

    private static void WriteSection(Utf8JsonWriter writer, StoredTwinSection section, bool withMetadata)
    {
        writer.WriteStartObject();
        WriteMembers(writer, section.Properties);
        if (withMetadata)
        {
            writer.WritePropertyName(TwinRules.MetadataKey);
            section.Metadata.WriteTo(writer);
        }

        writer.WriteNumber(TwinRules.VersionKey, section.Version);
        writer.WriteEndObject();
    }

    private static void WriteMembers(Utf8JsonWriter writer, JsonObject members)
    {
        foreach (var (key, value) in members)
        {
            writer.WritePropertyName(key);
            if (value is null)
            {
                writer.WriteNullValue();
            }
            else
            {
                value.WriteTo(writer);
            }
        }
    }

    private static void WriteTime(Utf8JsonWriter writer, string name, DateTimeOffset time)
    {
        writer.WritePropertyName(name);
        s_timeConverter.Write(writer, time, JsonSerializerOptions.Default);
    }

    private static string AuthenticationTypeName(AuthenticationType type) => type switch
    {
        AuthenticationType.SelfSigned => "selfSigned",
        AuthenticationType.CertificateAuthority => "certificateAuthority",
        AuthenticationType.None => "none",
        _ => "sas",
    };

    /// <summary>The identity a twin belongs to; 404001/404010 if it is not registered.</summary>
    private Identity Resolve(string deviceId, string? moduleId)
    {
        ArgumentNullException.ThrowIfNull(deviceId);
        if (moduleId is null)
        {
            var device = _identities.TryGetDevice(deviceId) ?? throw IotHubErrors.DeviceNotFound(deviceId);
            return new Identity(device.DeviceId, null, device.GenerationId, device.ETag, device.Status, device.StatusReason,
                device.StatusUpdatedTime, device.LastActivityTime, device.Authentication, device.Capabilities ?? new DeviceCapabilities(),
                device.DeviceScope, device.ParentScopes);
        }

        var module = _identities.TryGetModule(deviceId, moduleId)
            ?? throw (_identities.TryGetDevice(deviceId) is null ? IotHubErrors.DeviceNotFound(deviceId) : IotHubErrors.ModuleNotFound(deviceId, moduleId));
        return new Identity(module.DeviceId, module.ModuleId, module.GenerationId, module.ETag, DeviceStatus.Enabled, null,
            DateTimeOffset.MinValue, module.LastActivityTime, module.Authentication, null, null, null);
    }

    /// <summary>The stored twin of <paramref name="identity"/>, or its default twin if none is stored for this incarnation.</summary>
    private StoredTwin Load(IStateStore state, Identity identity)
    {
        var value = new ArrayBufferWriter<byte>(1024);
        if (state.TryRead(StateRecordKind.Twin, KeyOf(identity.DeviceId, identity.ModuleId), value)
            && JsonSerializer.Deserialize(value.WrittenSpan, TwinJsonContext.Default.StoredTwin) is { } stored
            && stored.GenerationId == identity.GenerationId)
        {
            return stored;
        }

        return StoredTwin.CreateDefault(identity.GenerationId, TwinMerge.Stamp(_time.GetUtcNow()));
    }

    private long Save(IStateStore state, Identity identity, StoredTwin twin)
    {
        var record = JsonSerializer.SerializeToUtf8Bytes(twin, TwinJsonContext.Default.StoredTwin);
        if (record.Length > MaxStoredTwinBytes)
        {
            throw IotHubErrors.ArgumentInvalid(string.Create(System.Globalization.CultureInfo.InvariantCulture,
                $"The twin of {identity.Describe()} would take {record.Length} bytes with its metadata; this hub stores at most {MaxStoredTwinBytes}."));
        }

        return state.Upsert(StateRecordKind.Twin, KeyOf(identity.DeviceId, identity.ModuleId), record);
    }

    private static byte[] KeyOf(string deviceId, string? moduleId)
        => Encoding.UTF8.GetBytes(DeviceContext.IdentityKeyOf(deviceId, moduleId));

    /// <summary>
    /// Deletes the twins a deleted identity leaves behind. A twin is kept only if it belongs to the identity's
    /// current incarnation (the id may have been registered again meanwhile). The deletes need not be waited for:
    /// a twin that outlives a crash is ignored by its generation id.
    /// </summary>
    private void OnIdentityChanged(IdentityChange change)
    {
        if (change.Kind != IdentityChangeKind.Deleted)
        {
            return;
        }

        var partition = _store.GetPartitionFor(change.DeviceId);
        lock (_partitionLocks[partition.Index])
        {
            var twins = new TwinCollector();
            if (change.ModuleId is null)
            {
                CollectOne(partition.State, KeyOf(change.DeviceId, null), twins);
                partition.State.Scan(StateRecordKind.Twin, Encoding.UTF8.GetBytes(change.DeviceId + "/"), twins);
            }
            else
            {
                CollectOne(partition.State, KeyOf(change.DeviceId, change.ModuleId), twins);
            }

            foreach (var (key, generationId) in twins.Twins)
            {
                var identityKey = Encoding.UTF8.GetString(key);
                int slash = identityKey.IndexOf('/', StringComparison.Ordinal);
                string? currentGeneration = slash < 0
                    ? _identities.TryGetDevice(identityKey)?.GenerationId
                    : _identities.TryGetModule(identityKey[..slash], identityKey[(slash + 1)..])?.GenerationId;
                if (currentGeneration is null || currentGeneration != generationId)
                {
                    partition.State.Delete(StateRecordKind.Twin, key);
                }
            }
        }
    }

    private static void CollectOne(IStateStore state, byte[] key, TwinCollector collector)
    {
        var value = new ArrayBufferWriter<byte>(1024);
        if (state.TryRead(StateRecordKind.Twin, key, value))
        {
            collector.Visit(key, value.WrittenSpan);
        }
    }

    private sealed class TwinCollector : IStateVisitor
    {
        public List<(byte[] Key, string? GenerationId)> Twins { get; } = [];

        public bool Visit(ReadOnlySpan<byte> key, ReadOnlySpan<byte> value)
        {
            Twins.Add((key.ToArray(), JsonSerializer.Deserialize(value, TwinJsonContext.Default.StoredTwin)?.GenerationId));
            return true;
        }
    }

    /// <summary>Sends a durable desired change to the identity's live connection, if any (offline devices get nothing).</summary>
    private sealed class DesiredPush(ConnectionRegistry connections, string deviceId, string? moduleId, long version, byte[] patch)
        : IDurabilityCallback
    {
        public void OnDurable(long token)
        {
            if (connections.TryGet(deviceId, moduleId, out var proxy))
            {
                proxy.SendDesiredPropertiesPatch(version, patch);
            }
        }

        public void OnFailed(long token, Exception error)
        {
            // Not durable, so not acknowledged and not announced.
        }
    }

    private sealed class ServiceRequest
    {
        public JsonObject? Tags { get; set; }

        public bool ClearTags { get; set; }

        public JsonObject? Desired { get; set; }

        public bool ClearDesired { get; set; }
    }

    private sealed record Identity(string DeviceId, string? ModuleId, string? GenerationId, string? ETag, DeviceStatus Status,
        string? StatusReason, DateTimeOffset StatusUpdatedTime, DateTimeOffset LastActivityTime, AuthenticationMechanism? Authentication,
        DeviceCapabilities? Capabilities, string? DeviceScope, IReadOnlyList<string>? ParentScopes)
    {
        public string Describe() => ModuleId is null ? $"device {DeviceId}" : $"module {DeviceId}/{ModuleId}";
    }
}
