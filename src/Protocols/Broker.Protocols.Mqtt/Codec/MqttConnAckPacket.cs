using System.Buffers;

namespace Broker.Protocols.Mqtt.Codec;

/// <summary>A decoded CONNACK (§3.2), as a client sees it.</summary>
public readonly struct MqttConnAckPacket
{
    private MqttConnAckPacket(bool sessionPresent, MqttConnectReturnCode returnCode)
    {
        SessionPresent = sessionPresent;
        ReturnCode = returnCode;
    }

    /// <summary>Whether the server resumed a stored session.</summary>
    public bool SessionPresent { get; }

    /// <summary>The connect return code (0-5).</summary>
    public MqttConnectReturnCode ReturnCode { get; }

    /// <summary>Decodes a CONNACK frame.</summary>
    public static bool TryDecode(in MqttFrame frame, out MqttConnAckPacket packet, out MqttProtocolError error)
    {
        packet = default;
        if (frame.Type != MqttPacketType.ConnAck)
        {
            error = MqttProtocolError.UnexpectedPacketType;
            return false;
        }

        error = MqttFrameReader.ValidateFixedHeaderFlags(frame.Type, frame.Flags);
        if (error != MqttProtocolError.None)
        {
            return false;
        }

        if (frame.Body.Length != 2)
        {
            error = MqttProtocolError.InvalidRemainingLength;
            return false;
        }

        Span<byte> body = stackalloc byte[2];
        frame.Body.CopyTo(body);
        byte acknowledgeFlags = body[0];
        byte returnCode = body[1];
        if (returnCode > (byte)MqttConnectReturnCode.NotAuthorized)
        {
            error = MqttProtocolError.InvalidConnectReturnCode;
            return false;
        }

        // Bits 7-1 are reserved; [MQTT-3.2.2-4] Session Present must be 0 with a non-zero return code.
        if ((acknowledgeFlags & 0xFE) != 0 || (acknowledgeFlags != 0 && returnCode != 0))
        {
            error = MqttProtocolError.InvalidConnAckFlags;
            return false;
        }

        packet = new MqttConnAckPacket(acknowledgeFlags != 0, (MqttConnectReturnCode)returnCode);
        error = MqttProtocolError.None;
        return true;
    }
}
