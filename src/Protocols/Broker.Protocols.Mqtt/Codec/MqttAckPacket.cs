using System.Buffers;
using System.Buffers.Binary;

namespace Broker.Protocols.Mqtt.Codec;

/// <summary>
/// A decoded PUBACK, PUBREC, PUBREL, PUBCOMP or UNSUBACK (§3.4-3.7, §3.11): packets made of a packet identifier only.
/// </summary>
public readonly struct MqttAckPacket
{
    private MqttAckPacket(MqttPacketType type, ushort packetId)
    {
        Type = type;
        PacketId = packetId;
    }

    /// <summary>Which acknowledgement this is.</summary>
    public MqttPacketType Type { get; }

    /// <summary>The packet identifier being acknowledged (never 0).</summary>
    public ushort PacketId { get; }

    /// <summary>Decodes a PUBACK, PUBREC, PUBREL, PUBCOMP or UNSUBACK frame.</summary>
    public static bool TryDecode(in MqttFrame frame, out MqttAckPacket packet, out MqttProtocolError error)
    {
        packet = default;
        if (frame.Type is not (MqttPacketType.PubAck or MqttPacketType.PubRec or MqttPacketType.PubRel
            or MqttPacketType.PubComp or MqttPacketType.UnsubAck))
        {
            error = MqttProtocolError.UnexpectedPacketType;
            return false;
        }

        error = MqttFrameReader.ValidateFixedHeaderFlags(frame.Type, frame.Flags);
        if (error != MqttProtocolError.None)
        {
            return false;
        }

        ReadOnlySequence<byte> body = frame.Body;
        if (body.Length != 2)
        {
            error = MqttProtocolError.InvalidRemainingLength;
            return false;
        }

        ushort packetId;
        if (body.FirstSpan.Length >= 2)
        {
            packetId = BinaryPrimitives.ReadUInt16BigEndian(body.FirstSpan);
        }
        else
        {
            Span<byte> copy = stackalloc byte[2];
            body.CopyTo(copy);
            packetId = BinaryPrimitives.ReadUInt16BigEndian(copy);
        }

        if (packetId == 0)
        {
            error = MqttProtocolError.ZeroPacketIdentifier;
            return false;
        }

        packet = new MqttAckPacket(frame.Type, packetId);
        return true;
    }
}
