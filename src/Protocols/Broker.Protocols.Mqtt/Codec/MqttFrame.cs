using System.Buffers;

namespace Broker.Protocols.Mqtt.Codec;

/// <summary>
/// One whole MQTT control packet found by <see cref="MqttFrameReader"/>: the validated fixed header and the body
/// (variable header + payload) as a slice of the receive buffer. It is only valid until the buffer is advanced.
/// </summary>
public readonly struct MqttFrame
{
    internal MqttFrame(MqttPacketType type, byte flags, int headerLength, in ReadOnlySequence<byte> body)
    {
        Type = type;
        Flags = flags;
        HeaderLength = headerLength;
        Body = body;
    }

    /// <summary>The control packet type.</summary>
    public MqttPacketType Type { get; }

    /// <summary>The low nibble of the first fixed-header byte.</summary>
    public byte Flags { get; }

    /// <summary>Size of the fixed header: the type byte plus 1-4 remaining-length bytes.</summary>
    public int HeaderLength { get; }

    /// <summary>The variable header and payload, exactly remaining-length bytes long.</summary>
    public ReadOnlySequence<byte> Body { get; }

    /// <summary>The remaining length declared in the fixed header.</summary>
    public int RemainingLength => (int)Body.Length;

    /// <summary>The size of the whole frame on the wire.</summary>
    public int TotalLength => HeaderLength + (int)Body.Length;
}
