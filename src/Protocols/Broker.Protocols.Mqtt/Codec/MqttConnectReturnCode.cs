namespace Broker.Protocols.Mqtt.Codec;

/// <summary>CONNACK return codes defined by MQTT 3.1.1 §3.2.2.3; values 6-255 are reserved.</summary>
public enum MqttConnectReturnCode : byte
{
    /// <summary>0x00 Connection accepted.</summary>
    Accepted = 0x00,
    /// <summary>0x01 The server does not support the requested protocol level.</summary>
    UnacceptableProtocolVersion = 0x01,
    /// <summary>0x02 The client identifier is well-formed UTF-8 but not allowed.</summary>
    IdentifierRejected = 0x02,
    /// <summary>0x03 The network connection was made but the MQTT service is unavailable.</summary>
    ServerUnavailable = 0x03,
    /// <summary>0x04 The user name or password is malformed.</summary>
    BadUserNameOrPassword = 0x04,
    /// <summary>0x05 The client is not authorized to connect.</summary>
    NotAuthorized = 0x05,
}
