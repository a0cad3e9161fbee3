namespace Broker.Protocols.Mqtt.Codec;

/// <summary>SUBACK return codes (MQTT 3.1.1 §3.9.3); every other value is malformed.</summary>
public enum MqttSubscribeReturnCode : byte
{
    /// <summary>Success, maximum QoS 0.</summary>
    GrantedQos0 = 0x00,
    /// <summary>Success, maximum QoS 1.</summary>
    GrantedQos1 = 0x01,
    /// <summary>Success, maximum QoS 2.</summary>
    GrantedQos2 = 0x02,
    /// <summary>The subscription was refused.</summary>
    Failure = 0x80,
}
