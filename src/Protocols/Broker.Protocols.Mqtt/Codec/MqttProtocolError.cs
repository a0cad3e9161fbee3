namespace Broker.Protocols.Mqtt.Codec;

/// <summary>
/// Why a frame or packet was rejected. Every value other than <see cref="None"/> means the network connection
/// must be closed (MQTT 3.1.1 §4.8); <see cref="MqttProtocolErrorExtensions.TryGetConnectReturnCode"/> says
/// which CONNECT errors are answered with a CONNACK first.
/// </summary>
public enum MqttProtocolError : byte
{
    /// <summary>No error.</summary>
    None = 0,

    // Fixed header.

    /// <summary>Packet type 0 or 15 (§2.2.1).</summary>
    ReservedPacketType,
    /// <summary>The fixed header's flag nibble is not what §2.2.2 requires for the type (incl. DUP set on a QoS 0 PUBLISH).</summary>
    InvalidFixedHeaderFlags,
    /// <summary>A PUBLISH with both QoS bits set (§3.3.1.2).</summary>
    InvalidPublishQos,
    /// <summary>The remaining length uses more than four bytes (§2.2.3).</summary>
    MalformedRemainingLength,
    /// <summary>The remaining length does not fit the packet type (e.g. a PINGREQ with a body, a PUBACK not of length 2).</summary>
    InvalidRemainingLength,
    /// <summary>The whole frame (header and body) is larger than the configured maximum.</summary>
    PacketTooLarge,

    // Structure.

    /// <summary>A decoder was handed a frame of another packet type (a caller bug, reported rather than thrown).</summary>
    UnexpectedPacketType,
    /// <summary>The body ends before a field it announces.</summary>
    TruncatedPacket,
    /// <summary>Bytes are left over after the last field the packet can contain.</summary>
    TrailingBytes,
    /// <summary>A packet identifier of 0 where a non-zero one is required (§2.3.1).</summary>
    ZeroPacketIdentifier,
    /// <summary>A string is not well-formed UTF-8 or contains U+0000 (§1.5.3).</summary>
    InvalidUtf8String,

    // CONNECT.

    /// <summary>The protocol name is neither "MQTT" nor "MQIsdp" (§3.1.2.1): close without CONNACK.</summary>
    InvalidProtocolName,
    /// <summary>The protocol level is not 4 for "MQTT" or 3 for "MQIsdp": answer CONNACK 0x01 (§3.1.2.2).</summary>
    UnsupportedProtocolLevel,
    /// <summary>The CONNECT reserved flag is not 0 (§3.1.2.3).</summary>
    ConnectReservedFlagSet,
    /// <summary>Will QoS/Retain set without the Will flag, or Will QoS 3 (§3.1.2.5-7).</summary>
    InvalidWillFlags,
    /// <summary>Password flag set without the User Name flag (§3.1.2.9).</summary>
    PasswordWithoutUserName,
    /// <summary>A zero-length client identifier without CleanSession (or under MQIsdp): answer CONNACK 0x02 (§3.1.3.1).</summary>
    ClientIdentifierRejected,

    // CONNACK (client side).

    /// <summary>CONNACK acknowledge flags use reserved bits, or Session Present is set with a non-zero return code.</summary>
    InvalidConnAckFlags,
    /// <summary>A CONNACK return code above 5.</summary>
    InvalidConnectReturnCode,

    // Topics and subscriptions.

    /// <summary>A topic name or filter of length 0 (§4.7.3).</summary>
    EmptyTopic,
    /// <summary>A topic name (PUBLISH or Will) contains '+' or '#' (§4.7.1).</summary>
    WildcardInTopicName,
    /// <summary>A topic filter puts '#' anywhere but alone in the last level, or '+' not alone in its level (§4.7.1).</summary>
    InvalidTopicFilter,
    /// <summary>A SUBSCRIBE or UNSUBSCRIBE without any topic filter (§3.8.3, §3.10.3).</summary>
    NoTopicFilters,
    /// <summary>A requested QoS byte with reserved bits set or QoS 3 (§3.8.3.1).</summary>
    InvalidSubscriptionOptions,
    /// <summary>A SUBACK without return codes, or with a code other than 0, 1, 2 or 0x80 (§3.9.3).</summary>
    InvalidSubAckReturnCode,
}
