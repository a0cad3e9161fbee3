using System.Buffers;
using System.Runtime.InteropServices;

namespace Broker.Protocols.Mqtt.Codec;

/// <summary>A decoded SUBACK (§3.9), as a client sees it.</summary>
public readonly struct MqttSubAckPacket
{
    private MqttSubAckPacket(ushort packetId, in ReadOnlySequence<byte> returnCodes)
    {
        PacketId = packetId;
        ReturnCodes = returnCodes;
    }

    /// <summary>The packet identifier of the SUBSCRIBE being acknowledged (never 0).</summary>
    public ushort PacketId { get; }

    /// <summary>One validated <see cref="MqttSubscribeReturnCode"/> byte per requested filter, in order.</summary>
    public ReadOnlySequence<byte> ReturnCodes { get; }

    /// <summary>How many return codes the packet carries (at least one).</summary>
    public int Count => (int)ReturnCodes.Length;

    /// <summary>Copies the return codes into <paramref name="destination"/>, which must hold <see cref="Count"/> items.</summary>
    public void CopyReturnCodesTo(Span<MqttSubscribeReturnCode> destination)
        => ReturnCodes.CopyTo(MemoryMarshal.AsBytes(destination));

    /// <summary>Decodes a SUBACK frame.</summary>
    public static bool TryDecode(in MqttFrame frame, out MqttSubAckPacket packet, out MqttProtocolError error)
    {
        packet = default;
        if (!MqttBodyReader.TryStart(frame, MqttPacketType.SubAck, out var reader, out ushort packetId, out error))
        {
            return false;
        }

        if (reader.End)
        {
            error = MqttProtocolError.InvalidSubAckReturnCode;
            return false;
        }

        while (reader.TryReadByte(out byte code))
        {
            if (code > (byte)MqttSubscribeReturnCode.GrantedQos2 && code != (byte)MqttSubscribeReturnCode.Failure)
            {
                error = MqttProtocolError.InvalidSubAckReturnCode;
                return false;
            }
        }

        packet = new MqttSubAckPacket(packetId, frame.Body.Slice(2));
        return true;
    }
}
