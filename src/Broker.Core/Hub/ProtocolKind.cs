namespace Broker.Core.Hub;

/// <summary>The transport a device connected with.</summary>
public enum ProtocolKind
{
    /// <summary>MQTT 3.1.1 over TCP (plain or TLS).</summary>
    Mqtt,

    /// <summary>MQTT 3.1.1 over WebSockets.</summary>
    MqttWebSockets,

    /// <summary>AMQP 1.0 over TCP (plain or TLS).</summary>
    Amqp,

    /// <summary>AMQP 1.0 over WebSockets.</summary>
    AmqpWebSockets,

    /// <summary>IoT Hub's device HTTPS API (one request at a time, no connection).</summary>
    Https,
}
