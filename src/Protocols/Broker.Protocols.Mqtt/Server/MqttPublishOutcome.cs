namespace Broker.Protocols.Mqtt.Server;

/// <summary>What the engine does after a session has seen a PUBLISH.</summary>
public enum MqttPublishOutcome
{
    /// <summary>Accepted: a QoS 1 publish is acknowledged now.</summary>
    Acknowledge,

    /// <summary>Accepted: the session acknowledges it later (for example once it is durable) through <see cref="IMqttClient.Acknowledge"/>.</summary>
    AcknowledgeLater,

    /// <summary>Refused: the connection is closed, as IoT Hub signals errors on MQTT.</summary>
    Close,
}
