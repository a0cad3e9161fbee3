using System.Buffers;
using System.Text;

namespace Broker.Protocols.Mqtt.Codec;

/// <summary>A decoded CONNECT (§3.1); every field is a slice of the frame body.</summary>
public readonly struct MqttConnectPacket
{
    private const byte ReservedFlag = 0x01;
    private const byte CleanSessionFlag = 0x02;
    private const byte WillFlag = 0x04;
    private const byte WillQosMask = 0x18;
    private const byte WillRetainFlag = 0x20;
    private const byte PasswordFlag = 0x40;
    private const byte UserNameFlag = 0x80;

    private readonly byte _connectFlags;

    private MqttConnectPacket(
        byte protocolLevel,
        byte connectFlags,
        ushort keepAliveSeconds,
        in ReadOnlySequence<byte> clientId,
        in ReadOnlySequence<byte> willTopic,
        in ReadOnlySequence<byte> willMessage,
        in ReadOnlySequence<byte> userName,
        in ReadOnlySequence<byte> password)
    {
        ProtocolLevel = protocolLevel;
        _connectFlags = connectFlags;
        KeepAliveSeconds = keepAliveSeconds;
        ClientId = clientId;
        WillTopic = willTopic;
        WillMessage = willMessage;
        UserName = userName;
        Password = password;
    }

    /// <summary>4 for MQTT 3.1.1 ("MQTT"), 3 for MQTT 3.1 ("MQIsdp").</summary>
    public byte ProtocolLevel { get; }

    /// <summary>The keep-alive interval in seconds; 0 turns the mechanism off.</summary>
    public ushort KeepAliveSeconds { get; }

    /// <summary>Whether the client asked to discard any previous session.</summary>
    public bool CleanSession => (_connectFlags & CleanSessionFlag) != 0;

    /// <summary>The client identifier (validated UTF-8, possibly empty when <see cref="CleanSession"/>).</summary>
    public ReadOnlySequence<byte> ClientId { get; }

    /// <summary>Whether a Will message is present.</summary>
    public bool HasWill => (_connectFlags & WillFlag) != 0;

    /// <summary>The Will QoS (0 when there is no Will).</summary>
    public MqttQualityOfService WillQos => (MqttQualityOfService)((_connectFlags & WillQosMask) >> 3);

    /// <summary>Whether the Will is to be retained.</summary>
    public bool WillRetain => (_connectFlags & WillRetainFlag) != 0;

    /// <summary>The Will topic (a validated topic name), empty when there is no Will.</summary>
    public ReadOnlySequence<byte> WillTopic { get; }

    /// <summary>The Will message (binary), empty when there is no Will.</summary>
    public ReadOnlySequence<byte> WillMessage { get; }

    /// <summary>Whether a user name is present (it may be present and empty).</summary>
    public bool HasUserName => (_connectFlags & UserNameFlag) != 0;

    /// <summary>The user name (validated UTF-8).</summary>
    public ReadOnlySequence<byte> UserName { get; }

    /// <summary>Whether a password is present (it may be present and empty).</summary>
    public bool HasPassword => (_connectFlags & PasswordFlag) != 0;

    /// <summary>The password (binary; for IoT Hub a SAS token).</summary>
    public ReadOnlySequence<byte> Password { get; }

    /// <summary>The client identifier as a string, for logs and other cold paths.</summary>
    public string GetClientIdString() => Encoding.UTF8.GetString(ClientId);

    /// <summary>The user name as a string, for cold paths.</summary>
    public string GetUserNameString() => Encoding.UTF8.GetString(UserName);

    /// <summary>The Will topic as a string, for cold paths.</summary>
    public string GetWillTopicString() => Encoding.UTF8.GetString(WillTopic);

    /// <summary>
    /// Decodes a CONNECT frame. On <see cref="MqttProtocolError.UnsupportedProtocolLevel"/> and
    /// <see cref="MqttProtocolError.ClientIdentifierRejected"/> the caller answers with the CONNACK code from
    /// <see cref="MqttProtocolErrorExtensions.TryGetConnectReturnCode"/> before closing.
    /// </summary>
    public static bool TryDecode(in MqttFrame frame, out MqttConnectPacket packet, out MqttProtocolError error)
    {
        packet = default;
        if (frame.Type != MqttPacketType.Connect)
        {
            error = MqttProtocolError.UnexpectedPacketType;
            return false;
        }

        var reader = new MqttBodyReader(frame.Body);
        if (!reader.TryReadLengthPrefixed(out ReadOnlySequence<byte> protocolName) || !reader.TryReadByte(out byte level))
        {
            error = MqttProtocolError.TruncatedPacket;
            return false;
        }

        // The level is judged before anything else: a client of another version (e.g. MQTT 5) lays out the rest
        // differently but must still get CONNACK 0x01.
        error = CheckProtocol(protocolName, level);
        if (error != MqttProtocolError.None)
        {
            return false;
        }

        if (!reader.TryReadByte(out byte flags) || !reader.TryReadUInt16(out ushort keepAlive))
        {
            error = MqttProtocolError.TruncatedPacket;
            return false;
        }

        error = CheckFlags(flags);
        if (error != MqttProtocolError.None)
        {
            return false;
        }

        if (!reader.TryReadLengthPrefixed(out ReadOnlySequence<byte> clientId))
        {
            error = MqttProtocolError.TruncatedPacket;
            return false;
        }

        if (!MqttTopicValidator.IsValidString(clientId))
        {
            error = MqttProtocolError.InvalidUtf8String;
            return false;
        }

        ReadOnlySequence<byte> willTopic = default;
        ReadOnlySequence<byte> willMessage = default;
        if ((flags & WillFlag) != 0)
        {
            if (!reader.TryReadLengthPrefixed(out willTopic) || !reader.TryReadLengthPrefixed(out willMessage))
            {
                error = MqttProtocolError.TruncatedPacket;
                return false;
            }

            error = MqttTopicValidator.ValidateTopicName(willTopic);
            if (error != MqttProtocolError.None)
            {
                return false;
            }
        }

        ReadOnlySequence<byte> userName = default;
        if ((flags & UserNameFlag) != 0)
        {
            if (!reader.TryReadLengthPrefixed(out userName))
            {
                error = MqttProtocolError.TruncatedPacket;
                return false;
            }

            if (!MqttTopicValidator.IsValidString(userName))
            {
                error = MqttProtocolError.InvalidUtf8String;
                return false;
            }
        }

        ReadOnlySequence<byte> password = default;
        if ((flags & PasswordFlag) != 0 && !reader.TryReadLengthPrefixed(out password))
        {
            error = MqttProtocolError.TruncatedPacket;
            return false;
        }

        if (!reader.End)
        {
            error = MqttProtocolError.TrailingBytes;
            return false;
        }

        // Checked last so that a malformed packet is closed without a CONNACK rather than answered with 0x02.
        // [MQTT-3.1.3-8] an empty id needs CleanSession; MQTT 3.1 does not allow one at all.
        if (clientId.IsEmpty && ((flags & CleanSessionFlag) == 0 || level == 3))
        {
            error = MqttProtocolError.ClientIdentifierRejected;
            return false;
        }

        packet = new MqttConnectPacket(level, flags, keepAlive, clientId, willTopic, willMessage, userName, password);
        error = MqttProtocolError.None;
        return true;
    }

    private static MqttProtocolError CheckProtocol(in ReadOnlySequence<byte> name, byte level)
    {
        Span<byte> copy = stackalloc byte[6];
        if (name.Length > copy.Length)
        {
            return MqttProtocolError.InvalidProtocolName;
        }

        copy = copy[..(int)name.Length];
        name.CopyTo(copy);
        if (copy.SequenceEqual("MQTT"u8))
        {
            return level == 4 ? MqttProtocolError.None : MqttProtocolError.UnsupportedProtocolLevel;
        }

        if (copy.SequenceEqual("MQIsdp"u8))
        {
            return level == 3 ? MqttProtocolError.None : MqttProtocolError.UnsupportedProtocolLevel;
        }

        return MqttProtocolError.InvalidProtocolName;
    }

    private static MqttProtocolError CheckFlags(byte flags)
    {
        if ((flags & ReservedFlag) != 0)
        {
            return MqttProtocolError.ConnectReservedFlagSet;
        }

        int willQos = (flags & WillQosMask) >> 3;
        if ((flags & WillFlag) == 0 ? (flags & (WillQosMask | WillRetainFlag)) != 0 : willQos == 3)
        {
            return MqttProtocolError.InvalidWillFlags;
        }

        return (flags & PasswordFlag) != 0 && (flags & UserNameFlag) == 0
            ? MqttProtocolError.PasswordWithoutUserName
            : MqttProtocolError.None;
    }
}
