using Broker.Core.Hub;
using System.Buffers;
using Broker.Protocols.Mqtt.Codec;

namespace Broker.Protocols.Mqtt.Server;

/// <summary>The dialect's view of one accepted connection: it sees each packet's content, parsed in place.</summary>
public interface IMqttSession
{
    /// <summary>A PUBLISH arrived; its topic and payload are only valid during the call.</summary>
    MqttPublishOutcome OnPublish(in MqttPublishPacket publish);

    /// <summary>Completes when a PUBLISH answered with <see cref="MqttPublishOutcome.RetryWhenReady"/> may be offered again.</summary>
    ValueTask WhenReadyAsync(CancellationToken cancellationToken);

    /// <summary>A subscription request; returns the granted QoS, <see cref="MqttSubscribeReturnCode.Failure"/>, or null to close the connection.</summary>
    MqttSubscribeReturnCode? OnSubscribe(in ReadOnlySequence<byte> filter, MqttQualityOfService requestedQos);

    /// <summary>
    /// A SUBSCRIBE (<paramref name="codes"/> its granted codes) or an UNSUBSCRIBE (<paramref name="codes"/> null) was
    /// applied. False: the connection acknowledges it now. True: the session acknowledges it later through
    /// <see cref="IMqttClient.AcknowledgeSubscription"/>, once the change it stored is durable.
    /// </summary>
    bool AcknowledgesSubscriptionLater(ushort packetId, MqttSubscribeReturnCode[]? codes);

    /// <summary>The SUBACK of a SUBSCRIBE is queued: publishes the new subscriptions let through may follow it now.</summary>
    void OnSubscribeAcknowledged();

    /// <summary>The CONNACK accepting the connection is queued: the session may start publishing.</summary>
    void OnAccepted();

    /// <summary>An unsubscribe request for one filter.</summary>
    void OnUnsubscribe(in ReadOnlySequence<byte> filter);

    /// <summary>The device acknowledged an outbound QoS 1 publish.</summary>
    void OnPublishAcknowledged(ushort packetId);

    /// <summary>
    /// The connection ended; <paramref name="graceful"/> when the device sent DISCONNECT, <paramref name="reason"/>
    /// when the broker closed it (null when the device or its transport did).
    /// </summary>
    void OnClosed(bool graceful, DisconnectReason? reason);
}
