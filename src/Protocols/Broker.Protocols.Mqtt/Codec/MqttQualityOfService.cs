namespace Broker.Protocols.Mqtt.Codec;

/// <summary>MQTT quality of service levels. The bit pattern 3 is malformed and never represented.</summary>
public enum MqttQualityOfService : byte
{
    /// <summary>QoS 0: fire and forget.</summary>
    AtMostOnce = 0,
    /// <summary>QoS 1: acknowledged with PUBACK.</summary>
    AtLeastOnce = 1,
    /// <summary>QoS 2: four-way PUBREC/PUBREL/PUBCOMP handshake.</summary>
    ExactlyOnce = 2,
}
