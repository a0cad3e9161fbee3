using System.Buffers;
using Broker.Core.Hub;
using Broker.Core.Storage;
using Broker.Core.Telemetry;
using Broker.Protocols.Mqtt.Codec;
using Broker.Protocols.Mqtt.Server;
using Microsoft.Extensions.Logging;

namespace Broker.Protocols.Mqtt.IotHub;

/// <summary>
/// One authenticated IoT Hub device connection over MQTT: applies the topic grammar, appends telemetry to the
/// device's partition and acknowledges a QoS 1 publish only once the group commit covering it is durable.
/// </summary>
internal sealed class IotHubMqttSession : IMqttSession, IDeviceProxy, IDurabilityCallback
{
    /// <summary>IoT Hub's largest device-to-cloud message.</summary>
    public const int MaxMessageBytes = 256 * 1024;

    private const int MaxTopicBytes = 8 * 1024;

    private readonly IMqttClient _client;
    private readonly IPartitionStore _partition;
    private readonly ConnectionRegistry _connections;
    private readonly ILogger _logger;
    private readonly byte[] _deviceId;
    private readonly byte[] _moduleId;
    private readonly byte[] _identity;
    private readonly ArrayBufferWriter<byte> _scratch = new(4096);
    private int _waitingForRoom;

    public IotHubMqttSession(DeviceContext context, IMqttClient client, IPartitionStore partition, ConnectionRegistry connections, ILogger logger)
    {
        Context = context;
        _client = client;
        _partition = partition;
        _connections = connections;
        _logger = logger;
        _deviceId = IotHubMqttConnectPolicy.Utf8(context.DeviceId);
        _moduleId = IotHubMqttConnectPolicy.Utf8(context.ModuleId);
        _identity = TelemetryEventCodec.EncodeIdentity(context);
    }

    public DeviceContext Context { get; }

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

        switch (IotHubTopics.ClassifyPublish(topic, _deviceId, _moduleId, out var bag))
        {
            case IotHubTopicKind.Telemetry:
                return OnTelemetry(publish, bag);
            default:
                // Twin and method topics are served by the twin/method work; anything else is outside the grammar.
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

        int eventLength = TelemetryEventCodec.EncodedLength(_identity.Length, bag.Length, publish.Payload.Length);
        if (!_partition.Events.HasRoomFor(eventLength))
        {
            _waitingForRoom = eventLength;
            return MqttPublishOutcome.RetryWhenReady;
        }

        _scratch.ResetWrittenCount();
        TelemetryEventCodec.Write(_scratch, _identity, bag, publish.Payload);
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
            IotHubMqttLog.TopicRejected(_logger, _client.RemoteEndPoint, Context.IdentityKey, System.Text.Encoding.UTF8.GetString(copy));
        }

        return granted;
    }

    public void OnUnsubscribe(in ReadOnlySequence<byte> filter)
    {
    }

    public void OnPublishAcknowledged(ushort packetId)
    {
    }

    public void OnClosed(bool graceful) => _connections.Unregister(this);

    public void Close(DisconnectReason reason) => _client.Close(reason);

    public DeviceSubscriptions Subscriptions => DeviceSubscriptions.None;

    public bool SendMethodRequest(string methodName, string requestId, ReadOnlyMemory<byte> payload) => false;

    public void SendDesiredPropertiesPatch(long version, ReadOnlyMemory<byte> patch)
    {
    }

    public void CloudToDeviceAvailable()
    {
    }

    // The durability callback: token = packet id of the PUBLISH whose event just became durable.
    public void OnDurable(long token) => _client.Acknowledge((ushort)token);

    public void OnFailed(long token, Exception error) => _client.Close(DisconnectReason.ServerShutdown);
}
