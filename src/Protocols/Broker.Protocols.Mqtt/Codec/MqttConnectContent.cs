namespace Broker.Protocols.Mqtt.Codec;

/// <summary>The fields of a CONNECT to write (clients and tests); presence flags follow the Has* properties.</summary>
public readonly ref struct MqttConnectContent
{
    /// <summary>Creates CONNECT content for MQTT 3.1.1.</summary>
    public MqttConnectContent() => ProtocolLevel = 4;

    /// <summary>
    /// The protocol level: 3 writes protocol name "MQIsdp", anything else "MQTT" (other levels are allowed so that
    /// tests can provoke CONNACK 0x01).
    /// </summary>
    public byte ProtocolLevel { get; init; }

    /// <summary>The client identifier (UTF-8).</summary>
    public ReadOnlySpan<byte> ClientId { get; init; }

    /// <summary>The keep-alive interval in seconds.</summary>
    public ushort KeepAliveSeconds { get; init; }

    /// <summary>Whether to start a clean session.</summary>
    public bool CleanSession { get; init; }

    /// <summary>Whether to send a Will.</summary>
    public bool HasWill { get; init; }

    /// <summary>The Will topic (when <see cref="HasWill"/>).</summary>
    public ReadOnlySpan<byte> WillTopic { get; init; }

    /// <summary>The Will message (when <see cref="HasWill"/>).</summary>
    public ReadOnlySpan<byte> WillMessage { get; init; }

    /// <summary>The Will QoS (when <see cref="HasWill"/>).</summary>
    public MqttQualityOfService WillQos { get; init; }

    /// <summary>Whether the Will is retained (when <see cref="HasWill"/>).</summary>
    public bool WillRetain { get; init; }

    /// <summary>Whether to send a user name.</summary>
    public bool HasUserName { get; init; }

    /// <summary>The user name (when <see cref="HasUserName"/>).</summary>
    public ReadOnlySpan<byte> UserName { get; init; }

    /// <summary>Whether to send a password (needs <see cref="HasUserName"/> to be valid MQTT 3.1.1).</summary>
    public bool HasPassword { get; init; }

    /// <summary>The password (when <see cref="HasPassword"/>).</summary>
    public ReadOnlySpan<byte> Password { get; init; }
}
