using System.Buffers;

namespace Broker.Protocols.Mqtt.Codec;

/// <summary>A decoded UNSUBSCRIBE (§3.10); the topic filters are validated and enumerated in place.</summary>
public readonly struct MqttUnsubscribePacket
{
    private MqttUnsubscribePacket(ushort packetId, int count, in ReadOnlySequence<byte> topicFilters)
    {
        PacketId = packetId;
        Count = count;
        TopicFilters = topicFilters;
    }

    /// <summary>The packet identifier the UNSUBACK must echo (never 0).</summary>
    public ushort PacketId { get; }

    /// <summary>How many topic filters the packet carries (at least one).</summary>
    public int Count { get; }

    /// <summary>The raw payload: length-prefixed topic filters.</summary>
    public ReadOnlySequence<byte> TopicFilters { get; }

    /// <summary>Enumerates the topic filters in wire order.</summary>
    public MqttTopicFilterEnumerator GetEnumerator() => new(TopicFilters);

    /// <summary>Decodes an UNSUBSCRIBE frame, validating every topic filter.</summary>
    public static bool TryDecode(in MqttFrame frame, out MqttUnsubscribePacket packet, out MqttProtocolError error)
    {
        packet = default;
        if (!MqttBodyReader.TryStart(frame, MqttPacketType.Unsubscribe, out var reader, out ushort packetId, out error))
        {
            return false;
        }

        int count = 0;
        while (!reader.End)
        {
            if (!reader.TryReadLengthPrefixed(out ReadOnlySequence<byte> filter))
            {
                error = MqttProtocolError.TruncatedPacket;
                return false;
            }

            error = MqttTopicValidator.ValidateTopicFilter(filter);
            if (error != MqttProtocolError.None)
            {
                return false;
            }

            count++;
        }

        if (count == 0)
        {
            error = MqttProtocolError.NoTopicFilters;
            return false;
        }

        packet = new MqttUnsubscribePacket(packetId, count, frame.Body.Slice(2));
        return true;
    }
}
