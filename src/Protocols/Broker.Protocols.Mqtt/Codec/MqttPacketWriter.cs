using System.Buffers;
using System.Buffers.Binary;

namespace Broker.Protocols.Mqtt.Codec;

/// <summary>
/// Writes MQTT 3.1.1 packets straight into an <see cref="IBufferWriter{T}"/> (typically the connection's
/// PipeWriter) without allocating. Invalid arguments are programming errors and throw; nothing is written then.
/// </summary>
public static class MqttPacketWriter
{
    // Packets up to this size are written with one GetSpan/Advance; larger payloads are copied in chunks so that
    // the writer never has to find one contiguous block for a whole large message.
    private const int SingleSpanLimit = 4096;

    /// <summary>Writes a CONNACK.</summary>
    public static void WriteConnAck(IBufferWriter<byte> writer, bool sessionPresent, MqttConnectReturnCode returnCode)
    {
        ArgumentNullException.ThrowIfNull(writer);
        if (sessionPresent && returnCode != MqttConnectReturnCode.Accepted)
        {
            throw new ArgumentException("[MQTT-3.2.2-4] Session Present must be 0 with a non-zero return code.", nameof(sessionPresent));
        }

        Span<byte> span = writer.GetSpan(4);
        span[0] = (byte)MqttPacketType.ConnAck << 4;
        span[1] = 2;
        span[2] = sessionPresent ? (byte)1 : (byte)0;
        span[3] = (byte)returnCode;
        writer.Advance(4);
    }

    /// <summary>Writes a PUBLISH whose topic is one span.</summary>
    public static void WritePublish(
        IBufferWriter<byte> writer,
        ReadOnlySpan<byte> topic,
        ushort packetId,
        MqttQualityOfService qos,
        bool retain,
        bool dup,
        ReadOnlySpan<byte> payload)
        => WritePublish(writer, new MqttComposedTopic(topic), packetId, qos, retain, dup, payload);

    /// <summary>Writes a PUBLISH whose topic is one span and whose payload is a sequence.</summary>
    public static void WritePublish(
        IBufferWriter<byte> writer,
        ReadOnlySpan<byte> topic,
        ushort packetId,
        MqttQualityOfService qos,
        bool retain,
        bool dup,
        in ReadOnlySequence<byte> payload)
        => WritePublish(writer, new MqttComposedTopic(topic), packetId, qos, retain, dup, payload);

    /// <summary>Writes a PUBLISH whose topic is composed from parts.</summary>
    public static void WritePublish(
        IBufferWriter<byte> writer,
        scoped in MqttComposedTopic topic,
        ushort packetId,
        MqttQualityOfService qos,
        bool retain,
        bool dup,
        ReadOnlySpan<byte> payload)
    {
        int prefixLength = GetPublishPrefixLength(writer, topic, packetId, qos, dup, payload.Length, out int remainingLength);
        if (prefixLength + payload.Length <= SingleSpanLimit)
        {
            Span<byte> span = writer.GetSpan(prefixLength + payload.Length);
            WritePublishPrefix(span, topic, packetId, qos, retain, dup, remainingLength);
            payload.CopyTo(span[prefixLength..]);
            writer.Advance(prefixLength + payload.Length);
            return;
        }

        WritePublishPrefix(writer.GetSpan(prefixLength), topic, packetId, qos, retain, dup, remainingLength);
        writer.Advance(prefixLength);
        WriteChunked(writer, payload);
    }

    /// <summary>Writes a PUBLISH whose topic is composed from parts and whose payload is a sequence.</summary>
    public static void WritePublish(
        IBufferWriter<byte> writer,
        scoped in MqttComposedTopic topic,
        ushort packetId,
        MqttQualityOfService qos,
        bool retain,
        bool dup,
        in ReadOnlySequence<byte> payload)
    {
        if (payload.IsSingleSegment)
        {
            WritePublish(writer, topic, packetId, qos, retain, dup, payload.FirstSpan);
            return;
        }

        if (payload.Length > MqttFrameReader.MaxRemainingLength)
        {
            throw new ArgumentOutOfRangeException(nameof(payload), "The payload does not fit in one MQTT packet.");
        }

        int prefixLength = GetPublishPrefixLength(writer, topic, packetId, qos, dup, (int)payload.Length, out int remainingLength);
        WritePublishPrefix(writer.GetSpan(prefixLength), topic, packetId, qos, retain, dup, remainingLength);
        writer.Advance(prefixLength);
        foreach (ReadOnlyMemory<byte> segment in payload)
        {
            WriteChunked(writer, segment.Span);
        }
    }

    /// <summary>Writes a PUBACK.</summary>
    public static void WritePubAck(IBufferWriter<byte> writer, ushort packetId)
        => WritePacketIdOnly(writer, (byte)MqttPacketType.PubAck << 4, packetId);

    /// <summary>Writes a PUBREC.</summary>
    public static void WritePubRec(IBufferWriter<byte> writer, ushort packetId)
        => WritePacketIdOnly(writer, (byte)MqttPacketType.PubRec << 4, packetId);

    /// <summary>Writes a PUBREL (fixed-header flags 0010).</summary>
    public static void WritePubRel(IBufferWriter<byte> writer, ushort packetId)
        => WritePacketIdOnly(writer, ((byte)MqttPacketType.PubRel << 4) | 0x02, packetId);

    /// <summary>Writes a PUBCOMP.</summary>
    public static void WritePubComp(IBufferWriter<byte> writer, ushort packetId)
        => WritePacketIdOnly(writer, (byte)MqttPacketType.PubComp << 4, packetId);

    /// <summary>Writes an UNSUBACK.</summary>
    public static void WriteUnsubAck(IBufferWriter<byte> writer, ushort packetId)
        => WritePacketIdOnly(writer, (byte)MqttPacketType.UnsubAck << 4, packetId);

    /// <summary>Writes a SUBACK with one return code per requested filter (0, 1, 2 or 0x80).</summary>
    public static void WriteSubAck(IBufferWriter<byte> writer, ushort packetId, ReadOnlySpan<MqttSubscribeReturnCode> returnCodes)
    {
        ArgumentNullException.ThrowIfNull(writer);
        CheckPacketId(packetId);
        if (returnCodes.IsEmpty)
        {
            throw new ArgumentException("A SUBACK carries at least one return code.", nameof(returnCodes));
        }

        foreach (MqttSubscribeReturnCode code in returnCodes)
        {
            if (code is not (MqttSubscribeReturnCode.GrantedQos0 or MqttSubscribeReturnCode.GrantedQos1
                or MqttSubscribeReturnCode.GrantedQos2 or MqttSubscribeReturnCode.Failure))
            {
                throw new ArgumentOutOfRangeException(nameof(returnCodes), code, "Not a SUBACK return code.");
            }
        }

        int remainingLength = CheckRemainingLength(2L + returnCodes.Length);
        int total = 1 + GetVariableByteIntegerSize(remainingLength) + remainingLength;
        Span<byte> span = StartPacket(writer, total, (byte)MqttPacketType.SubAck << 4, remainingLength, out int offset);
        BinaryPrimitives.WriteUInt16BigEndian(span[offset..], packetId);
        for (int i = 0; i < returnCodes.Length; i++)
        {
            span[offset + 2 + i] = (byte)returnCodes[i];
        }

        writer.Advance(total);
    }

    /// <summary>Writes a PINGREQ.</summary>
    public static void WritePingReq(IBufferWriter<byte> writer) => WriteEmpty(writer, (byte)MqttPacketType.PingReq << 4);

    /// <summary>Writes a PINGRESP.</summary>
    public static void WritePingResp(IBufferWriter<byte> writer) => WriteEmpty(writer, (byte)MqttPacketType.PingResp << 4);

    /// <summary>Writes a DISCONNECT.</summary>
    public static void WriteDisconnect(IBufferWriter<byte> writer) => WriteEmpty(writer, (byte)MqttPacketType.Disconnect << 4);

    /// <summary>
    /// Writes a CONNECT. Flag combinations are written as given and not checked, so tests can also produce
    /// packets a server must reject.
    /// </summary>
    public static void WriteConnect(IBufferWriter<byte> writer, scoped in MqttConnectContent content)
    {
        ArgumentNullException.ThrowIfNull(writer);
        ReadOnlySpan<byte> protocolName = content.ProtocolLevel == 3 ? "MQIsdp"u8 : "MQTT"u8;
        long length = 2 + protocolName.Length + 1 + 1 + 2 + GetStringSize(content.ClientId, nameof(content.ClientId));
        byte flags = content.CleanSession ? (byte)0x02 : (byte)0;
        if (content.HasWill)
        {
            flags |= (byte)(0x04 | ((byte)content.WillQos << 3) | (content.WillRetain ? 0x20 : 0));
            length += GetStringSize(content.WillTopic, nameof(content.WillTopic))
                + GetStringSize(content.WillMessage, nameof(content.WillMessage));
        }

        if (content.HasUserName)
        {
            flags |= 0x80;
            length += GetStringSize(content.UserName, nameof(content.UserName));
        }

        if (content.HasPassword)
        {
            flags |= 0x40;
            length += GetStringSize(content.Password, nameof(content.Password));
        }

        int remainingLength = CheckRemainingLength(length);
        int total = 1 + GetVariableByteIntegerSize(remainingLength) + remainingLength;
        Span<byte> span = StartPacket(writer, total, (byte)MqttPacketType.Connect << 4, remainingLength, out int offset);
        offset += WriteString(span[offset..], protocolName);
        span[offset++] = content.ProtocolLevel;
        span[offset++] = flags;
        BinaryPrimitives.WriteUInt16BigEndian(span[offset..], content.KeepAliveSeconds);
        offset += 2;
        offset += WriteString(span[offset..], content.ClientId);
        if (content.HasWill)
        {
            offset += WriteString(span[offset..], content.WillTopic);
            offset += WriteString(span[offset..], content.WillMessage);
        }

        if (content.HasUserName)
        {
            offset += WriteString(span[offset..], content.UserName);
        }

        if (content.HasPassword)
        {
            WriteString(span[offset..], content.Password);
        }

        writer.Advance(total);
    }

    /// <summary>Writes a SUBSCRIBE with one topic filter.</summary>
    public static void WriteSubscribe(IBufferWriter<byte> writer, ushort packetId, ReadOnlySpan<byte> filter, MqttQualityOfService qos)
    {
        ArgumentNullException.ThrowIfNull(writer);
        CheckPacketId(packetId);
        int remainingLength = CheckRemainingLength(2L + GetStringSize(filter, nameof(filter)) + 1);
        int total = 1 + GetVariableByteIntegerSize(remainingLength) + remainingLength;
        Span<byte> span = StartPacket(writer, total, ((byte)MqttPacketType.Subscribe << 4) | 0x02, remainingLength, out int offset);
        BinaryPrimitives.WriteUInt16BigEndian(span[offset..], packetId);
        offset += 2;
        offset += WriteString(span[offset..], filter);
        span[offset] = (byte)qos;
        writer.Advance(total);
    }

    /// <summary>Writes a SUBSCRIBE with several topic filters.</summary>
    public static void WriteSubscribe(IBufferWriter<byte> writer, ushort packetId, ReadOnlySpan<MqttSubscriptionRequest> subscriptions)
    {
        ArgumentNullException.ThrowIfNull(writer);
        CheckPacketId(packetId);
        long length = 2;
        foreach (MqttSubscriptionRequest subscription in subscriptions)
        {
            length += GetStringSize(subscription.Filter.Span, nameof(subscriptions)) + 1;
        }

        int remainingLength = CheckRemainingLength(length);
        int total = 1 + GetVariableByteIntegerSize(remainingLength) + remainingLength;
        Span<byte> span = StartPacket(writer, total, ((byte)MqttPacketType.Subscribe << 4) | 0x02, remainingLength, out int offset);
        BinaryPrimitives.WriteUInt16BigEndian(span[offset..], packetId);
        offset += 2;
        foreach (MqttSubscriptionRequest subscription in subscriptions)
        {
            offset += WriteString(span[offset..], subscription.Filter.Span);
            span[offset++] = (byte)subscription.Qos;
        }

        writer.Advance(total);
    }

    /// <summary>Writes an UNSUBSCRIBE with one topic filter.</summary>
    public static void WriteUnsubscribe(IBufferWriter<byte> writer, ushort packetId, ReadOnlySpan<byte> filter)
    {
        ArgumentNullException.ThrowIfNull(writer);
        CheckPacketId(packetId);
        int remainingLength = CheckRemainingLength(2L + GetStringSize(filter, nameof(filter)));
        int total = 1 + GetVariableByteIntegerSize(remainingLength) + remainingLength;
        Span<byte> span = StartPacket(writer, total, ((byte)MqttPacketType.Unsubscribe << 4) | 0x02, remainingLength, out int offset);
        BinaryPrimitives.WriteUInt16BigEndian(span[offset..], packetId);
        WriteString(span[(offset + 2)..], filter);
        writer.Advance(total);
    }

    /// <summary>Writes an UNSUBSCRIBE with several topic filters.</summary>
    public static void WriteUnsubscribe(IBufferWriter<byte> writer, ushort packetId, ReadOnlySpan<ReadOnlyMemory<byte>> filters)
    {
        ArgumentNullException.ThrowIfNull(writer);
        CheckPacketId(packetId);
        long length = 2;
        foreach (ReadOnlyMemory<byte> filter in filters)
        {
            length += GetStringSize(filter.Span, nameof(filters));
        }

        int remainingLength = CheckRemainingLength(length);
        int total = 1 + GetVariableByteIntegerSize(remainingLength) + remainingLength;
        Span<byte> span = StartPacket(writer, total, ((byte)MqttPacketType.Unsubscribe << 4) | 0x02, remainingLength, out int offset);
        BinaryPrimitives.WriteUInt16BigEndian(span[offset..], packetId);
        offset += 2;
        foreach (ReadOnlyMemory<byte> filter in filters)
        {
            offset += WriteString(span[offset..], filter.Span);
        }

        writer.Advance(total);
    }

    /// <summary>The number of bytes (1-4) the remaining-length field takes for <paramref name="value"/>.</summary>
    public static int GetVariableByteIntegerSize(int value) => value switch
    {
        < 128 => 1,
        < 16_384 => 2,
        < 2_097_152 => 3,
        _ => 4,
    };

    private static int GetPublishPrefixLength(
        IBufferWriter<byte> writer,
        scoped in MqttComposedTopic topic,
        ushort packetId,
        MqttQualityOfService qos,
        bool dup,
        int payloadLength,
        out int remainingLength)
    {
        ArgumentNullException.ThrowIfNull(writer);
        if (qos > MqttQualityOfService.ExactlyOnce)
        {
            throw new ArgumentOutOfRangeException(nameof(qos), qos, "QoS must be 0, 1 or 2.");
        }

        if (qos == MqttQualityOfService.AtMostOnce)
        {
            if (packetId != 0 || dup)
            {
                throw new ArgumentException("A QoS 0 PUBLISH has no packet identifier and DUP 0.", nameof(packetId));
            }
        }
        else
        {
            CheckPacketId(packetId);
        }

        int topicLength = topic.Length;
        if (topicLength is 0 or > ushort.MaxValue)
        {
            throw new ArgumentOutOfRangeException(nameof(topic), topicLength, "A topic name is 1 to 65,535 bytes.");
        }

        int variableHeaderLength = 2 + topicLength + (qos == MqttQualityOfService.AtMostOnce ? 0 : 2);
        remainingLength = CheckRemainingLength((long)variableHeaderLength + payloadLength);
        return 1 + GetVariableByteIntegerSize(remainingLength) + variableHeaderLength;
    }

    private static void WritePublishPrefix(
        Span<byte> span,
        scoped in MqttComposedTopic topic,
        ushort packetId,
        MqttQualityOfService qos,
        bool retain,
        bool dup,
        int remainingLength)
    {
        span[0] = (byte)(((byte)MqttPacketType.Publish << 4) | (dup ? 0x08 : 0) | ((byte)qos << 1) | (retain ? 0x01 : 0));
        int offset = 1 + WriteVariableByteInteger(span[1..], remainingLength);
        int topicLength = topic.Length;
        BinaryPrimitives.WriteUInt16BigEndian(span[offset..], (ushort)topicLength);
        topic.CopyTo(span[(offset + 2)..]);
        if (qos != MqttQualityOfService.AtMostOnce)
        {
            BinaryPrimitives.WriteUInt16BigEndian(span[(offset + 2 + topicLength)..], packetId);
        }
    }

    private static void WritePacketIdOnly(IBufferWriter<byte> writer, int firstByte, ushort packetId)
    {
        ArgumentNullException.ThrowIfNull(writer);
        CheckPacketId(packetId);
        Span<byte> span = writer.GetSpan(4);
        span[0] = (byte)firstByte;
        span[1] = 2;
        BinaryPrimitives.WriteUInt16BigEndian(span[2..], packetId);
        writer.Advance(4);
    }

    private static void WriteEmpty(IBufferWriter<byte> writer, int firstByte)
    {
        ArgumentNullException.ThrowIfNull(writer);
        Span<byte> span = writer.GetSpan(2);
        span[0] = (byte)firstByte;
        span[1] = 0;
        writer.Advance(2);
    }

    private static Span<byte> StartPacket(IBufferWriter<byte> writer, int total, int firstByte, int remainingLength, out int offset)
    {
        Span<byte> span = writer.GetSpan(total);
        span[0] = (byte)firstByte;
        offset = 1 + WriteVariableByteInteger(span[1..], remainingLength);
        return span;
    }

    private static void WriteChunked(IBufferWriter<byte> writer, ReadOnlySpan<byte> data)
    {
        while (!data.IsEmpty)
        {
            Span<byte> span = writer.GetSpan(Math.Min(data.Length, SingleSpanLimit));
            int count = Math.Min(span.Length, data.Length);
            data[..count].CopyTo(span);
            writer.Advance(count);
            data = data[count..];
        }
    }

    private static int WriteVariableByteInteger(Span<byte> span, int value)
    {
        int index = 0;
        do
        {
            byte encoded = (byte)(value & 0x7F);
            value >>= 7;
            if (value > 0)
            {
                encoded |= 0x80;
            }

            span[index++] = encoded;
        }
        while (value > 0);
        return index;
    }

    private static int WriteString(Span<byte> span, ReadOnlySpan<byte> value)
    {
        BinaryPrimitives.WriteUInt16BigEndian(span, (ushort)value.Length);
        value.CopyTo(span[2..]);
        return 2 + value.Length;
    }

    private static int GetStringSize(ReadOnlySpan<byte> value, string parameterName)
    {
        if (value.Length > ushort.MaxValue)
        {
            throw new ArgumentOutOfRangeException(parameterName, value.Length, "An MQTT string or binary field is at most 65,535 bytes.");
        }

        return 2 + value.Length;
    }

    private static int CheckRemainingLength(long length)
    {
        if (length > MqttFrameReader.MaxRemainingLength)
        {
            throw new ArgumentOutOfRangeException(nameof(length), length, "The packet exceeds the MQTT maximum remaining length.");
        }

        return (int)length;
    }

    private static void CheckPacketId(ushort packetId)
    {
        if (packetId == 0)
        {
            throw new ArgumentOutOfRangeException(nameof(packetId), packetId, "[MQTT-2.3.1-1] Packet identifiers are non-zero.");
        }
    }
}
