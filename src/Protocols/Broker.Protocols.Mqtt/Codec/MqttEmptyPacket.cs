namespace Broker.Protocols.Mqtt.Codec;

/// <summary>A decoded PINGREQ, PINGRESP or DISCONNECT (§3.12-3.14): packets without a body.</summary>
public readonly struct MqttEmptyPacket
{
    private MqttEmptyPacket(MqttPacketType type) => Type = type;

    /// <summary>Which packet this is.</summary>
    public MqttPacketType Type { get; }

    /// <summary>Decodes a PINGREQ, PINGRESP or DISCONNECT frame.</summary>
    public static bool TryDecode(in MqttFrame frame, out MqttEmptyPacket packet, out MqttProtocolError error)
    {
        packet = default;
        if (frame.Type is not (MqttPacketType.PingReq or MqttPacketType.PingResp or MqttPacketType.Disconnect))
        {
            error = MqttProtocolError.UnexpectedPacketType;
            return false;
        }

        error = MqttFrameReader.ValidateFixedHeaderFlags(frame.Type, frame.Flags);
        if (error != MqttProtocolError.None)
        {
            return false;
        }

        if (!frame.Body.IsEmpty)
        {
            error = MqttProtocolError.InvalidRemainingLength;
            return false;
        }

        packet = new MqttEmptyPacket(frame.Type);
        return true;
    }
}
