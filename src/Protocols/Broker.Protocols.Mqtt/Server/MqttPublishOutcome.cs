namespace Broker.Protocols.Mqtt.Server;

/// <summary>What the engine does after a session has seen a PUBLISH.</summary>
public enum MqttPublishOutcome
{
    /// <summary>Accepted: a QoS 1 publish is acknowledged now.</summary>
    Acknowledge,

    /// <summary>Accepted: the session acknowledges it later (for example once it is durable) through <see cref="IMqttClient.Acknowledge"/>.</summary>
    AcknowledgeLater,

    /// <summary>
    /// Not taken yet (its store is behind): the engine stops reading, awaits <see cref="IMqttSession.WhenReadyAsync"/>
    /// and offers the same PUBLISH again. This is the TCP back-pressure: nothing is dropped or buffered without bound.
    /// </summary>
    RetryWhenReady,

    /// <summary>Refused: the connection is closed, as IoT Hub signals errors on MQTT.</summary>
    Close,
}
