using System.Buffers;
using System.Buffers.Binary;
using System.Text;

namespace Broker.Protocols.Mqtt.Codec;

/// <summary>A decoded PUBLISH (§3.3); topic and payload are slices of the frame body.</summary>
public readonly struct MqttPublishPacket
{
    private MqttPublishPacket(
        MqttQualityOfService qos,
        bool dup,
        bool retain,
        ushort packetId,
        in ReadOnlySequence<byte> topic,
        in ReadOnlySequence<byte> payload)
    {
        Qos = qos;
        Dup = dup;
        Retain = retain;
        PacketId = packetId;
        Topic = topic;
        Payload = payload;
    }

    /// <summary>The delivery QoS.</summary>
    public MqttQualityOfService Qos { get; }

    /// <summary>Whether this is a redelivery.</summary>
    public bool Dup { get; }

    /// <summary>Whether the sender asked for the message to be retained.</summary>
    public bool Retain { get; }

    /// <summary>The packet identifier; 0 for QoS 0, never 0 otherwise.</summary>
    public ushort PacketId { get; }

    /// <summary>The topic name: non-empty, valid UTF-8, no wildcards.</summary>
    public ReadOnlySequence<byte> Topic { get; }

    /// <summary>The application payload (possibly empty).</summary>
    public ReadOnlySequence<byte> Payload { get; }

    /// <summary>The topic as a string, for cold paths.</summary>
    public string GetTopicString() => Encoding.UTF8.GetString(Topic);

    /// <summary>Decodes a PUBLISH frame.</summary>
    public static bool TryDecode(in MqttFrame frame, out MqttPublishPacket packet, out MqttProtocolError error)
    {
        packet = default;
        if (frame.Type != MqttPacketType.Publish)
        {
            error = MqttProtocolError.UnexpectedPacketType;
            return false;
        }

        error = MqttFrameReader.ValidateFixedHeaderFlags(MqttPacketType.Publish, frame.Flags);
        if (error != MqttProtocolError.None)
        {
            return false;
        }

        var qos = (MqttQualityOfService)((frame.Flags >> 1) & 0x03);
        ReadOnlySequence<byte> body = frame.Body;
        ReadOnlySequence<byte> topic;
        ushort packetId = 0;
        int headerLength;
        if (body.IsSingleSegment)
        {
            // Hot path: the whole body in one segment, read straight from the span.
            ReadOnlySpan<byte> span = body.FirstSpan;
            if (span.Length < 2)
            {
                error = MqttProtocolError.TruncatedPacket;
                return false;
            }

            int topicLength = BinaryPrimitives.ReadUInt16BigEndian(span);
            headerLength = 2 + topicLength + (qos == MqttQualityOfService.AtMostOnce ? 0 : 2);
            if (span.Length < headerLength)
            {
                error = MqttProtocolError.TruncatedPacket;
                return false;
            }

            error = MqttTopicValidator.ValidateTopicName(span.Slice(2, topicLength));
            if (error != MqttProtocolError.None)
            {
                return false;
            }

            if (qos != MqttQualityOfService.AtMostOnce)
            {
                packetId = BinaryPrimitives.ReadUInt16BigEndian(span[(2 + topicLength)..]);
            }

            topic = body.Slice(2, topicLength);
        }
        else
        {
            var reader = new MqttBodyReader(body);
            if (!reader.TryReadLengthPrefixed(out topic)
                || (qos != MqttQualityOfService.AtMostOnce && !reader.TryReadUInt16(out packetId)))
            {
                error = MqttProtocolError.TruncatedPacket;
                return false;
            }

            error = MqttTopicValidator.ValidateTopicName(topic);
            if (error != MqttProtocolError.None)
            {
                return false;
            }

            headerLength = (int)(body.Length - reader.Remaining);
        }

        if (qos != MqttQualityOfService.AtMostOnce && packetId == 0)
        {
            error = MqttProtocolError.ZeroPacketIdentifier;
            return false;
        }

        packet = new MqttPublishPacket(
            qos,
            dup: (frame.Flags & 0x08) != 0,
            retain: (frame.Flags & 0x01) != 0,
            packetId,
            topic,
            body.Slice(headerLength));
        error = MqttProtocolError.None;
        return true;
    }
}
