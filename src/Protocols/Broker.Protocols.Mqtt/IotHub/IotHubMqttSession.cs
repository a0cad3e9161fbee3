using System.Buffers;
using System.Text;
using Broker.Core.CloudToDevice;
using Broker.Core.Hub;
using Broker.Core.Storage;
using Broker.Core.Telemetry;
using Broker.Protocols.Mqtt.Codec;
using Broker.Protocols.Mqtt.Server;
using Microsoft.Extensions.Logging;

namespace Broker.Protocols.Mqtt.IotHub;

/// <summary>
/// One authenticated IoT Hub device connection over MQTT: applies the topic grammar, appends telemetry to the
/// device's partition and acknowledges a QoS 1 publish only once the group commit covering it is durable;
/// delivers cloud-to-device messages (completed by the device's PUBACK), direct-method requests and twin traffic.
/// </summary>
internal sealed class IotHubMqttSession : IMqttSession, IDeviceProxy, IDurabilityCallback
{
    /// <summary>IoT Hub's largest device-to-cloud message.</summary>
    public const int MaxMessageBytes = 256 * 1024;

    /// <summary>Cloud-to-device messages in flight (sent, not yet PUBACKed) per connection.</summary>
    public const int MaxCloudToDeviceInFlight = 16;

    private const int MaxTopicBytes = 8 * 1024;

    // Durability tokens above the packet-id range mark a deferred SUBACK/UNSUBACK; the others are PUBACKs.
    private const long SubscriptionAckToken = 1L << 32;

    private readonly IMqttClient _client;
    private readonly IPartitionStore _partition;
    private readonly IotHubHubServices _hub;
    private readonly ILogger _logger;
    private readonly byte[] _deviceId;
    private readonly byte[] _moduleId;
    private readonly byte[] _identity;
    private readonly bool _persistent;
    private readonly ArrayBufferWriter<byte> _scratch = new(4096);
    private readonly Lock _cloudToDeviceLock = new();
    private readonly Dictionary<ushort, Guid> _cloudToDeviceInFlight = [];
    private int _waitingForRoom;
    private int _subscriptions;
    private bool _cloudToDeviceAtMostOnce;
    private ushort _lastPacketId;
    private bool _closed;

    // The persistent session record written by the SUBSCRIBE/UNSUBSCRIBE being processed (0: none); its
    // acknowledgement waits until that record is durable, holding the granted codes meanwhile.
    private long _sessionSavedAt;
    private readonly Dictionary<ushort, MqttSubscribeReturnCode[]?> _subscriptionAcksWaiting = [];

    public IotHubMqttSession(DeviceContext context, IMqttClient client, IotHubHubServices hub, DeviceSubscriptions restored, bool persistent, ILogger logger)
    {
        Context = context;
        _client = client;
        _hub = hub;
        _partition = hub.Store.GetPartitionFor(context.DeviceId);
        _logger = logger;
        _persistent = persistent;
        _subscriptions = (int)restored;
        _deviceId = IotHubMqttConnectPolicy.Utf8(context.DeviceId);
        _moduleId = IotHubMqttConnectPolicy.Utf8(context.ModuleId);
        _identity = TelemetryEventCodec.EncodeIdentity(context);
    }

    public DeviceContext Context { get; }

    /// <summary>The Will to send as telemetry if the connection ends without DISCONNECT; null without one.</summary>
    public WillMessage? Will { get; init; }

    public DeviceSubscriptions Subscriptions => (DeviceSubscriptions)Volatile.Read(ref _subscriptions);

    public MqttPublishOutcome OnPublish(in MqttPublishPacket publish)
    {
        if (publish.Topic.Length > MaxTopicBytes)
        {
            return MqttPublishOutcome.Close;
        }

        Span<byte> topicCopy = stackalloc byte[publish.Topic.IsSingleSegment ? 0 : (int)publish.Topic.Length];
        scoped ReadOnlySpan<byte> topic;
        if (publish.Topic.IsSingleSegment)
        {
            topic = publish.Topic.FirstSpan;
        }
        else
        {
            publish.Topic.CopyTo(topicCopy);
            topic = topicCopy;
        }

        var kind = IotHubTopics.ClassifyPublish(topic, _deviceId, _moduleId, out var bag);
        switch (kind)
        {
            case IotHubTopicKind.Telemetry:
                return OnTelemetry(publish, bag);
            case IotHubTopicKind.MethodResponse:
                return OnMethodResponse(publish, topic, bag);
            case IotHubTopicKind.TwinGet:
            case IotHubTopicKind.TwinReportedPatch:
                if (!IotHubTopics.TryGetRequestId(bag, out var requestId))
                {
                    IotHubMqttLog.TopicRejected(_logger, _client.RemoteEndPoint, Context.IdentityKey, publish.GetTopicString());
                    return MqttPublishOutcome.Close;
                }

                string rid = Encoding.UTF8.GetString(requestId);
                if (kind == IotHubTopicKind.TwinGet)
                {
                    OnTwinGet(rid);
                }
                else
                {
                    // The patch is parsed and applied before this returns, so patches apply in arrival order;
                    // only the answer waits for durability.
                    _ = OnReportedPatchAsync(rid, publish.Payload.ToArray());
                }

                return MqttPublishOutcome.Acknowledge;
            default:
                IotHubMqttLog.TopicRejected(_logger, _client.RemoteEndPoint, Context.IdentityKey, publish.GetTopicString());
                return MqttPublishOutcome.Close;
        }
    }

    private MqttPublishOutcome OnTelemetry(in MqttPublishPacket publish, ReadOnlySpan<byte> bag)
    {
        if (publish.Payload.Length > MaxMessageBytes)
        {
            IotHubMqttLog.MessageTooLarge(_logger, _client.RemoteEndPoint, Context.IdentityKey, publish.Payload.Length);
            return MqttPublishOutcome.Close;
        }

        // RETAIN: nothing is kept for later subscribers; the message is forwarded with mqtt-retain=true.
        Span<byte> retainedBag = stackalloc byte[publish.Retain ? IotHubHubProperties.AppendedLength(bag, IotHubHubProperties.Retain) : 0];
        scoped ReadOnlySpan<byte> storedBag = bag;
        if (publish.Retain)
        {
            IotHubHubProperties.Append(bag, IotHubHubProperties.Retain, retainedBag);
            storedBag = retainedBag;
        }

        int eventLength = TelemetryEventCodec.EncodedLength(_identity.Length, storedBag.Length, publish.Payload.Length);
        if (!_partition.Events.HasRoomFor(eventLength))
        {
            _waitingForRoom = eventLength;
            return MqttPublishOutcome.RetryWhenReady;
        }

        _scratch.ResetWrittenCount();
        TelemetryEventCodec.Write(_scratch, _identity, storedBag, publish.Payload);
        try
        {
            if (publish.Qos == MqttQualityOfService.AtMostOnce)
            {
                _partition.Events.Append(_scratch.WrittenSpan);
                return MqttPublishOutcome.Acknowledge;
            }

            _partition.Events.Append(_scratch.WrittenSpan, this, publish.PacketId);
            return MqttPublishOutcome.AcknowledgeLater;
        }
        catch (StorageException ex)
        {
            IotHubMqttLog.StorageFailed(_logger, ex, Context.IdentityKey);
            return MqttPublishOutcome.Close;
        }
    }

    private MqttPublishOutcome OnMethodResponse(in MqttPublishPacket publish, ReadOnlySpan<byte> topic, ReadOnlySpan<byte> query)
    {
        if (!IotHubTopics.TryGetMethodStatus(topic, out int status) || !IotHubTopics.TryGetRequestId(query, out var requestId))
        {
            IotHubMqttLog.TopicRejected(_logger, _client.RemoteEndPoint, Context.IdentityKey, publish.GetTopicString());
            return MqttPublishOutcome.Close;
        }

        if (publish.Payload.Length > Core.Methods.MethodInvoker.MaxPayloadBytes)
        {
            IotHubMqttLog.MessageTooLarge(_logger, _client.RemoteEndPoint, Context.IdentityKey, publish.Payload.Length);
            return MqttPublishOutcome.Close;
        }

        string rid = Encoding.UTF8.GetString(requestId);
        if (!_hub.Methods.Complete(Context, rid, status, publish.Payload.IsSingleSegment ? publish.Payload.FirstSpan : publish.Payload.ToArray()))
        {
            IotHubMqttLog.UnknownMethodResponse(_logger, _client.RemoteEndPoint, Context.IdentityKey, rid);
        }

        return MqttPublishOutcome.Acknowledge;
    }

    private void OnTwinGet(string requestId)
    {
        try
        {
            RespondToTwin(IotHubOutboundTopics.TwinResponse(200, requestId), _hub.Twins.GetDeviceView(Context.DeviceId, Context.ModuleId));
        }
        catch (Core.Errors.IotHubException ex)
        {
            RespondToTwin(IotHubOutboundTopics.TwinResponse(ex.HttpStatus, requestId), TwinErrorBody(ex));
        }
    }

    private async Task OnReportedPatchAsync(string requestId, byte[] patch)
    {
        try
        {
            long version = await _hub.Twins.UpdateReportedAsync(Context.DeviceId, Context.ModuleId, patch).ConfigureAwait(false);
            RespondToTwin(IotHubOutboundTopics.TwinReportedResponse(requestId, version), ReadOnlyMemory<byte>.Empty);
        }
        catch (Core.Errors.IotHubException ex)
        {
            RespondToTwin(IotHubOutboundTopics.TwinResponse(ex.HttpStatus, requestId), TwinErrorBody(ex));
        }
        catch (StorageException ex)
        {
            IotHubMqttLog.StorageFailed(_logger, ex, Context.IdentityKey);
            _client.Close(DisconnectReason.ServerShutdown);
        }
    }

    // Twin answers go to devices that subscribed to $iothub/twin/res/#, as the hub sends them.
    private void RespondToTwin(string topic, ReadOnlyMemory<byte> body)
    {
        if ((Subscriptions & DeviceSubscriptions.TwinResponses) != 0)
        {
            _client.Publish(topic, body, MqttQualityOfService.AtMostOnce);
        }
    }

    // The SDKs ignore the status in the topic and look for errorCode in a JSON body.
    private static byte[] TwinErrorBody(Core.Errors.IotHubException error)
        => System.Text.Json.JsonSerializer.SerializeToUtf8Bytes(new TwinError(error.Number, error.Message), IotHubMqttJsonContext.Default.TwinError);

    public ValueTask WhenReadyAsync(CancellationToken cancellationToken)
        => _partition.Events.WaitForRoomAsync(_waitingForRoom, cancellationToken);

    public MqttSubscribeReturnCode? OnSubscribe(in ReadOnlySequence<byte> filter, MqttQualityOfService requestedQos)
    {
        if (filter.Length > MaxTopicBytes)
        {
            return null;
        }

        Span<byte> copy = stackalloc byte[(int)filter.Length];
        filter.CopyTo(copy);
        var granted = IotHubTopics.GrantSubscription(copy, _deviceId, _moduleId, requestedQos);
        if (granted is null)
        {
            IotHubMqttLog.TopicRejected(_logger, _client.RemoteEndPoint, Context.IdentityKey, Encoding.UTF8.GetString(copy));
            return null;
        }

        var feature = IotHubTopics.FeatureOf(copy);
        if (feature == DeviceSubscriptions.CloudToDevice && Context.ModuleId is null)
        {
            _cloudToDeviceAtMostOnce = granted == MqttSubscribeReturnCode.GrantedQos0;
        }
        else if (feature == DeviceSubscriptions.CloudToDevice)
        {
            feature = DeviceSubscriptions.None; // modules have no cloud-to-device queue
        }

        if (feature != DeviceSubscriptions.None)
        {
            ChangeSubscriptions(feature, add: true);
        }

        return granted;
    }

    public bool AcknowledgesSubscriptionLater(ushort packetId, MqttSubscribeReturnCode[]? codes)
    {
        // A persistent session's SUBACK/UNSUBACK tells the device its subscriptions are kept: only once they are.
        long savedAt = _sessionSavedAt;
        if (savedAt == 0)
        {
            return false;
        }

        _sessionSavedAt = 0;
        lock (_subscriptionAcksWaiting)
        {
            _subscriptionAcksWaiting[packetId] = codes;
        }

        _partition.State.WhenDurable(savedAt, this, SubscriptionAckToken | packetId);
        return true;
    }

    public void OnSubscribeAcknowledged()
    {
        // After the SUBACK is queued: what the subscriptions let through now follows it on the wire.
        _hub.Connections.NotifySubscriptionsChanged(this);
        PumpCloudToDevice();
    }

    public void OnUnsubscribe(in ReadOnlySequence<byte> filter)
    {
        if (filter.Length > MaxTopicBytes)
        {
            return;
        }

        Span<byte> copy = stackalloc byte[(int)filter.Length];
        filter.CopyTo(copy);
        var feature = IotHubTopics.FeatureOf(copy);
        if (feature != DeviceSubscriptions.None)
        {
            ChangeSubscriptions(feature, add: false);
        }
    }

    public void OnAccepted()
    {
        // Subscriptions restored from a persistent session: the backlog follows the CONNACK.
        if (Subscriptions != DeviceSubscriptions.None)
        {
            _hub.Connections.NotifySubscriptionsChanged(this);
            PumpCloudToDevice();
        }
    }

    public void OnPublishAcknowledged(ushort packetId)
    {
        Guid lockToken;
        lock (_cloudToDeviceLock)
        {
            if (!_cloudToDeviceInFlight.Remove(packetId, out lockToken))
            {
                return;
            }
        }

        _ = CompleteAsync(lockToken);
        PumpCloudToDevice();
    }

    public void OnClosed(bool graceful, DisconnectReason? reason)
    {
        // Gone without DISCONNECT (transport lost, keep-alive, protocol error, expired credentials, taken over):
        // the Will goes out as telemetry. Not when the identity was disabled or deleted, nor at shutdown.
        if (!graceful && Will is { } will && reason is not (DisconnectReason.DeviceDisabled or DisconnectReason.DeviceDeleted or DisconnectReason.ServerShutdown))
        {
            SendWill(will);
        }

        lock (_cloudToDeviceLock)
        {
            _closed = true;
            _cloudToDeviceInFlight.Clear();
        }

        _hub.Connections.Unregister(this);
        if (Context.ModuleId is null)
        {
            // Unacknowledged deliveries return to the queue at once (a newer connection may take them).
            _hub.CloudToDevice.ReleaseLocks(Context.DeviceId, this);
        }
    }

    public void Close(DisconnectReason reason) => _client.Close(reason);

    public bool SendMethodRequest(string methodName, string requestId, ReadOnlyMemory<byte> payload)
        => (Subscriptions & DeviceSubscriptions.Methods) != 0
            && _client.Publish(IotHubOutboundTopics.MethodRequest(methodName, requestId), payload, MqttQualityOfService.AtMostOnce);

    public void SendDesiredPropertiesPatch(long version, ReadOnlyMemory<byte> patch)
    {
        if ((Subscriptions & DeviceSubscriptions.DesiredProperties) != 0)
        {
            _client.Publish(IotHubOutboundTopics.DesiredPatch(version), patch, MqttQualityOfService.AtMostOnce);
        }
    }

    public void CloudToDeviceAvailable() => PumpCloudToDevice();

    // The durability callback: token = packet id of the PUBLISH whose event just became durable, or of the
    // SUBSCRIBE/UNSUBSCRIBE whose session record did (with SubscriptionAckToken).
    public void OnDurable(long token)
    {
        if ((token & SubscriptionAckToken) == 0)
        {
            _client.Acknowledge((ushort)token);
            return;
        }

        MqttSubscribeReturnCode[]? codes;
        lock (_subscriptionAcksWaiting)
        {
            _subscriptionAcksWaiting.Remove((ushort)token, out codes);
        }

        _client.AcknowledgeSubscription((ushort)token, codes);
    }

    public void OnFailed(long token, Exception error) => _client.Close(DisconnectReason.ServerShutdown);

    private void PumpCloudToDevice()
    {
        if ((Subscriptions & DeviceSubscriptions.CloudToDevice) == 0 || Context.ModuleId is not null)
        {
            return;
        }

        lock (_cloudToDeviceLock)
        {
            while (!_closed && _cloudToDeviceInFlight.Count < MaxCloudToDeviceInFlight
                && _hub.CloudToDevice.TryLockNext(Context.DeviceId, this, out var delivery))
            {
                string topic = IotHubOutboundTopics.CloudToDevice(delivery.Message);
                if (_cloudToDeviceAtMostOnce)
                {
                    // A QoS 0 subscription takes delivery as it is sent: at most once.
                    if (!_client.Publish(topic, delivery.Message.Body, MqttQualityOfService.AtMostOnce))
                    {
                        _hub.CloudToDevice.Release(Context.DeviceId, delivery.LockToken);
                        return;
                    }

                    _ = CompleteAsync(delivery.LockToken);
                    continue;
                }

                ushort packetId = NextPacketId();
                _cloudToDeviceInFlight[packetId] = delivery.LockToken;
                if (!_client.Publish(topic, delivery.Message.Body, MqttQualityOfService.AtLeastOnce, packetId))
                {
                    _cloudToDeviceInFlight.Remove(packetId);
                    _hub.CloudToDevice.Release(Context.DeviceId, delivery.LockToken);
                    return;
                }
            }
        }
    }

    private ushort NextPacketId()
    {
        do
        {
            _lastPacketId = _lastPacketId == ushort.MaxValue ? (ushort)1 : (ushort)(_lastPacketId + 1);
        }
        while (_cloudToDeviceInFlight.ContainsKey(_lastPacketId));

        return _lastPacketId;
    }

    private async Task CompleteAsync(Guid lockToken)
    {
        try
        {
            await _hub.CloudToDevice.CompleteAsync(Context.DeviceId, lockToken).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is Core.Errors.IotHubException or StorageException)
        {
            // A PUBACK after the lock ran out: the message went back to the queue and will be delivered again.
            IotHubMqttLog.CompleteFailed(_logger, _client.RemoteEndPoint, Context.IdentityKey, ex.Message);
        }
    }

    private void SendWill(WillMessage will)
    {
        try
        {
            var payload = new ReadOnlySequence<byte>(will.Payload);
            var writer = new ArrayBufferWriter<byte>(TelemetryEventCodec.EncodedLength(_identity.Length, will.PropertyBag.Length, will.Payload.Length));
            TelemetryEventCodec.Write(writer, _identity, will.PropertyBag, payload);
            // Nobody waits for it: the device is gone, so nothing is acknowledged.
            _partition.Events.Append(writer.WrittenSpan);
            IotHubMqttLog.WillSent(_logger, _client.RemoteEndPoint, Context.IdentityKey);
        }
        catch (StorageException ex)
        {
            IotHubMqttLog.WillFailed(_logger, ex, _client.RemoteEndPoint, Context.IdentityKey);
        }
    }

    private void ChangeSubscriptions(DeviceSubscriptions feature, bool add)
    {
        int current;
        int next;
        do
        {
            current = Volatile.Read(ref _subscriptions);
            next = add ? current | (int)feature : current & ~(int)feature;
        }
        while (Interlocked.CompareExchange(ref _subscriptions, next, current) != current);

        if (_persistent && next != current)
        {
            _sessionSavedAt = IotHubMqttSessions.Save(_partition.State, Context.IdentityKey, Context.GenerationId, (DeviceSubscriptions)next);
        }
    }

    /// <summary>A Will accepted at CONNECT: its telemetry property bag (with <c>iothub-MessageType=Will</c>) and payload.</summary>
    internal sealed record WillMessage(byte[] PropertyBag, byte[] Payload);
}
