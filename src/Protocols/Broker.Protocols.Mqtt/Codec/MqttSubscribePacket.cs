using System.Buffers;

namespace Broker.Protocols.Mqtt.Codec;

/// <summary>A decoded SUBSCRIBE (§3.8); the subscriptions are validated and enumerated in place.</summary>
public readonly struct MqttSubscribePacket
{
    private MqttSubscribePacket(ushort packetId, int count, in ReadOnlySequence<byte> subscriptions)
    {
        PacketId = packetId;
        Count = count;
        Subscriptions = subscriptions;
    }

    /// <summary>The packet identifier the SUBACK must echo (never 0).</summary>
    public ushort PacketId { get; }

    /// <summary>How many topic filters the packet carries (at least one).</summary>
    public int Count { get; }

    /// <summary>The raw payload: (length-prefixed filter, requested QoS) pairs.</summary>
    public ReadOnlySequence<byte> Subscriptions { get; }

    /// <summary>Enumerates the subscriptions in wire order.</summary>
    public MqttSubscriptionEnumerator GetEnumerator() => new(Subscriptions);

    /// <summary>Decodes a SUBSCRIBE frame, validating every topic filter and requested QoS.</summary>
    public static bool TryDecode(in MqttFrame frame, out MqttSubscribePacket packet, out MqttProtocolError error)
    {
        packet = default;
        if (!MqttBodyReader.TryStart(frame, MqttPacketType.Subscribe, out var reader, out ushort packetId, out error))
        {
            return false;
        }

        ReadOnlySequence<byte> subscriptions = frame.Body.Slice(2);
        int count = 0;
        while (!reader.End)
        {
            if (!reader.TryReadLengthPrefixed(out ReadOnlySequence<byte> filter) || !reader.TryReadByte(out byte options))
            {
                error = MqttProtocolError.TruncatedPacket;
                return false;
            }

            error = MqttTopicValidator.ValidateTopicFilter(filter);
            if (error != MqttProtocolError.None)
            {
                return false;
            }

            // [MQTT-3.8.3-4] the upper six bits are reserved and QoS 3 is malformed.
            if (options > (byte)MqttQualityOfService.ExactlyOnce)
            {
                error = MqttProtocolError.InvalidSubscriptionOptions;
                return false;
            }

            count++;
        }

        if (count == 0)
        {
            error = MqttProtocolError.NoTopicFilters;
            return false;
        }

        packet = new MqttSubscribePacket(packetId, count, subscriptions);
        return true;
    }
}
