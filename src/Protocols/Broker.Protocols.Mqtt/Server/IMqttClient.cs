using Broker.Core.Hub;
using Broker.Protocols.Mqtt.Codec;

namespace Broker.Protocols.Mqtt.Server;

/// <summary>How a session talks back to its device; safe to call from any thread.</summary>
public interface IMqttClient
{
    /// <summary>Sends the PUBACK of a publish the session accepted with <see cref="MqttPublishOutcome.AcknowledgeLater"/>.</summary>
    void Acknowledge(ushort packetId);

    /// <summary>
    /// Sends the SUBACK (<paramref name="codes"/>) or UNSUBACK (<paramref name="codes"/> null) of a request the session
    /// chose to acknowledge later (<see cref="IMqttSession.AcknowledgesSubscriptionLater"/>).
    /// </summary>
    void AcknowledgeSubscription(ushort packetId, MqttSubscribeReturnCode[]? codes);

    /// <summary>Queues a PUBLISH to the device; false when the outbound queue is full or the connection is gone.</summary>
    bool Publish(string topic, ReadOnlyMemory<byte> payload, MqttQualityOfService qos, ushort packetId = 0);

    /// <summary>Sets when the connection's credentials expire; the connection is closed then.</summary>
    void SetCredentialsExpiry(DateTimeOffset? expiresAt);

    /// <summary>Closes the connection.</summary>
    void Close(DisconnectReason reason);

    /// <summary>The remote endpoint, for logs.</summary>
    string RemoteEndPoint { get; }
}
