using System.Buffers;
using System.Globalization;
using System.Text;
using Broker.Core.CloudToDevice;
using Broker.Protocols.Amqp.Codec;

namespace Broker.Protocols.Amqp.IotHub;

/// <summary>Encodes the messages the hub sends on its AMQP links (every body a single data section) and reads values.</summary>
internal static class IotHubAmqpMessages
{
    public static ReadOnlySpan<byte> StatusCode => "status-code"u8;

    public static ReadOnlySpan<byte> StatusDescription => "status-description"u8;

    /// <summary>A string encoded as an AMQP string (for message ids), or empty for null.</summary>
    public static byte[] EncodeString(string? value)
    {
        if (value is null)
        {
            return [];
        }

        var output = new ArrayBufferWriter<byte>(value.Length + 8);
        var writer = new AmqpWriter(output);
        writer.WriteString(value);
        writer.Commit();
        return output.WrittenSpan.ToArray();
    }

    /// <summary>A CBS put-token reply: correlation-id = the request's message-id (its type kept), status as an int.</summary>
    public static void WriteCbsReply(ArrayBufferWriter<byte> output, ReadOnlySpan<byte> correlationId, int status, string description)
    {
        var writer = new AmqpWriter(output);
        AmqpMessageWriter.WriteProperties(ref writer, new AmqpProperties { CorrelationId = correlationId });
        AmqpMessageWriter.BeginApplicationProperties(ref writer);
        writer.WriteString(StatusCode);
        writer.WriteInt(status);
        writer.WriteString(StatusDescription);
        writer.WriteString(description);
        AmqpMessageWriter.EndMapSection(ref writer);
        AmqpMessageWriter.BeginAmqpValue(ref writer);
        writer.WriteNull();
        writer.Commit();
    }

    /// <summary>A cloud-to-device message as the hub delivers it on <c>/devices/{id}/messages/deviceBound</c>.</summary>
    public static void WriteCloudToDevice(ArrayBufferWriter<byte> output, StoredCloudToDeviceMessage message, Guid lockToken)
    {
        var writer = new AmqpWriter(output);
        AmqpMessageWriter.BeginMessageAnnotations(ref writer);
        writer.WriteSymbol("x-opt-lock-token"u8);
        writer.WriteString(lockToken.ToString());
        writer.WriteSymbol("x-opt-sequence-number"u8);
        writer.WriteULong((ulong)message.SequenceNumber);
        writer.WriteSymbol("iothub-enqueuedtime"u8);
        writer.WriteTimestamp(message.EnqueuedTime.ToUnixTimeMilliseconds());
        writer.WriteSymbol("iothub-deliverycount"u8);
        writer.WriteUByte((byte)Math.Min(message.DeliveryCount, byte.MaxValue));
        AmqpMessageWriter.EndMapSection(ref writer);
        byte[] to = Encoding.UTF8.GetBytes($"/devices/{Uri.EscapeDataString(message.DeviceId)}/messages/deviceBound");
        AmqpMessageWriter.WriteProperties(ref writer, new AmqpProperties
        {
            MessageId = EncodeString(message.MessageId),
            UserId = message.UserId is null ? default : Encoding.UTF8.GetBytes(message.UserId),
            To = to,
            CorrelationId = EncodeString(message.CorrelationId),
            ContentType = message.ContentType is null ? default : Encoding.UTF8.GetBytes(message.ContentType),
            ContentEncoding = message.ContentEncoding is null ? default : Encoding.UTF8.GetBytes(message.ContentEncoding),
            AbsoluteExpiryTime = message.ExpiryTime.ToUnixTimeMilliseconds(),
        });
        AmqpMessageWriter.BeginApplicationProperties(ref writer);
        foreach (var (name, value) in message.Properties)
        {
            writer.WriteString(name);
            if (value is null)
            {
                writer.WriteNull();
            }
            else
            {
                writer.WriteString(value);
            }
        }

        if (message.Ack != FeedbackMode.None && !message.Properties.ContainsKey("iothub-ack"))
        {
            writer.WriteString("iothub-ack"u8);
            writer.WriteString(AckText(message.Ack));
        }

        AmqpMessageWriter.EndMapSection(ref writer);
        AmqpMessageWriter.WriteData(ref writer, message.Body);
        writer.Commit();
    }

    /// <summary>A twin answer: the request's correlation-id, <c>status</c> (int) and optionally <c>version</c> annotations, a JSON body.</summary>
    public static void WriteTwinReply(ArrayBufferWriter<byte> output, ReadOnlySpan<byte> correlationId, int status, long? version, ReadOnlySpan<byte> body)
    {
        var writer = new AmqpWriter(output);
        AmqpMessageWriter.BeginMessageAnnotations(ref writer);
        writer.WriteSymbol("status"u8);
        writer.WriteInt(status);
        if (version is { } v)
        {
            writer.WriteSymbol("version"u8);
            writer.WriteLong(v);
        }

        AmqpMessageWriter.EndMapSection(ref writer);
        AmqpMessageWriter.WriteProperties(ref writer, new AmqpProperties { CorrelationId = correlationId });
        AmqpMessageWriter.WriteData(ref writer, body);
        writer.Commit();
    }

    /// <summary>A desired-properties notification: no correlation-id, the patch (with <c>$version</c>) as body.</summary>
    public static void WriteDesiredPatch(ArrayBufferWriter<byte> output, long version, ReadOnlySpan<byte> patch)
    {
        var writer = new AmqpWriter(output);
        AmqpMessageWriter.BeginMessageAnnotations(ref writer);
        writer.WriteSymbol("version"u8);
        writer.WriteLong(version);
        AmqpMessageWriter.EndMapSection(ref writer);
        AmqpMessageWriter.WriteData(ref writer, patch);
        writer.Commit();
    }

    /// <summary>
    /// A direct-method request: message-id and correlation-id = the request id as a uuid (see
    /// <see cref="MethodRequestUuid"/>), app property <c>IoThub-methodname</c>, JSON body.
    /// </summary>
    public static void WriteMethodRequest(ArrayBufferWriter<byte> output, string requestId, string methodName, ReadOnlySpan<byte> payload)
    {
        var writer = new AmqpWriter(output);
        byte[] id = MethodRequestUuid(requestId) is { } uuid ? EncodeUuid(uuid) : EncodeString(requestId);
        AmqpMessageWriter.WriteProperties(ref writer, new AmqpProperties { MessageId = id, CorrelationId = id });
        AmqpMessageWriter.BeginApplicationProperties(ref writer);
        writer.WriteString("IoThub-methodname"u8);
        writer.WriteString(methodName);
        AmqpMessageWriter.EndMapSection(ref writer);
        AmqpMessageWriter.WriteData(ref writer, payload);
        writer.Commit();
    }

    /// <summary>
    /// The method invoker's request id (a hex counter) as a GUID whose last 16 hex digits are the counter: the C#
    /// device SDK answers a method with <c>correlation-id = new Guid(request id)</c>, so over AMQP a request id must
    /// be a GUID. Null for an id that is not such a counter (it then goes out as a string).
    /// </summary>
    public static Guid? MethodRequestUuid(string requestId)
    {
        if (requestId.Length is 0 or > 16 || !ulong.TryParse(requestId, NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out ulong counter))
        {
            return null;
        }

        return Guid.ParseExact(string.Concat("0000000000000000", counter.ToString("x16", CultureInfo.InvariantCulture)), "N");
    }

    /// <summary>
    /// The request id a method response's correlation-id answers: the counter inside a GUID made by
    /// <see cref="MethodRequestUuid"/> (sent back as a uuid, as GUID text, or as 16 binary bytes), else the id as text.
    /// </summary>
    public static string MethodRequestId(AmqpMessageId correlationId)
    {
        Guid? guid = correlationId.Kind switch
        {
            AmqpMessageIdKind.Uuid => correlationId.GetUuid(),
            AmqpMessageIdKind.String when Guid.TryParse(correlationId.GetBytes(), out Guid parsed) => parsed,
            AmqpMessageIdKind.Binary when correlationId.GetBytes().Length == 16 => new Guid(correlationId.GetBytes(), bigEndian: true),
            _ => null,
        };
        if (guid is { } value)
        {
            Span<char> text = stackalloc char[32];
            value.TryFormat(text, out _, "N");
            if (text[..16].IndexOfAnyExcept('0') < 0)
            {
                return ulong.Parse(text[16..], NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture).ToString("x", CultureInfo.InvariantCulture);
            }
        }

        return correlationId.ToString();
    }

    /// <summary>A GUID encoded as an AMQP uuid.</summary>
    public static byte[] EncodeUuid(Guid value)
    {
        var output = new ArrayBufferWriter<byte>(17);
        var writer = new AmqpWriter(output);
        writer.WriteUuid(value);
        writer.Commit();
        return output.WrittenSpan.ToArray();
    }

    /// <summary>A feedback batch: annotation <c>iothub-enqueuedtime</c>, content type, user-id = the hub name, the JSON array as body.</summary>
    public static void WriteFeedback(ArrayBufferWriter<byte> output, FeedbackBatch batch, string hubName)
    {
        var writer = new AmqpWriter(output);
        // The service SDK's AmqpFeedbackReceiver reads (DateTime)MessageAnnotations["iothub-enqueuedtime"].
        AmqpMessageWriter.BeginMessageAnnotations(ref writer);
        writer.WriteSymbol("iothub-enqueuedtime"u8);
        writer.WriteTimestamp(batch.EnqueuedTime.ToUnixTimeMilliseconds());
        AmqpMessageWriter.EndMapSection(ref writer);
        AmqpMessageWriter.WriteProperties(ref writer, new AmqpProperties
        {
            MessageId = EncodeString(batch.LockToken.ToString()),
            UserId = Encoding.UTF8.GetBytes(hubName),
            ContentType = Encoding.UTF8.GetBytes(FeedbackBatch.ContentType),
            CreationTime = batch.EnqueuedTime.ToUnixTimeMilliseconds(),
        });
        AmqpMessageWriter.WriteData(ref writer, batch.Body);
        writer.Commit();
    }

    /// <summary>The 16 bytes of a lock token, as the C# SDK reads a delivery tag (<c>new Guid(tag)</c>).</summary>
    public static void WriteLockToken(Guid lockToken, Span<byte> destination) => lockToken.TryWriteBytes(destination);

    public static string AckText(FeedbackMode mode) => mode switch
    {
        FeedbackMode.Positive => "positive",
        FeedbackMode.Negative => "negative",
        FeedbackMode.Full => "full",
        _ => "none",
    };

    public static FeedbackMode? ParseAck(string? text) => text?.ToLowerInvariant() switch
    {
        null or "" or "none" => FeedbackMode.None,
        "positive" => FeedbackMode.Positive,
        "negative" => FeedbackMode.Negative,
        "full" => FeedbackMode.Full,
        _ => null,
    };

    /// <summary>A string or symbol value in a map, or null.</summary>
    public static string? GetText(ReadOnlySpan<byte> map, ReadOnlySpan<byte> key)
    {
        if (!AmqpMap.TryGetValue(map, key, out var value) || value.IsEmpty || value[0] == AmqpFormatCode.Null)
        {
            return null;
        }

        return Encoding.UTF8.GetString(AmqpMap.GetText(value));
    }

    /// <summary>An integer value of any AMQP integer type, or null.</summary>
    public static long? GetInteger(ReadOnlySpan<byte> encoded)
    {
        if (encoded.IsEmpty)
        {
            return null;
        }

        var reader = new AmqpReader(encoded);
        return encoded[0] switch
        {
            AmqpFormatCode.Int or AmqpFormatCode.SmallInt => reader.ReadInt(),
            AmqpFormatCode.Long or AmqpFormatCode.SmallLong => reader.ReadLong(),
            AmqpFormatCode.UInt or AmqpFormatCode.SmallUInt or AmqpFormatCode.UInt0 => reader.ReadUInt(),
            AmqpFormatCode.ULong or AmqpFormatCode.SmallULong or AmqpFormatCode.ULong0 => (long)reader.ReadULong(),
            AmqpFormatCode.Short => reader.ReadShort(),
            AmqpFormatCode.UShort => reader.ReadUShort(),
            AmqpFormatCode.Byte => reader.ReadByte(),
            AmqpFormatCode.UByte => reader.ReadUByte(),
            AmqpFormatCode.String8 or AmqpFormatCode.String32 when long.TryParse(Encoding.UTF8.GetString(reader.ReadString()), NumberStyles.Integer, CultureInfo.InvariantCulture, out long parsed) => parsed,
            _ => null,
        };
    }

    /// <summary>
    /// Writes a simple AMQP value (string, symbol, number, boolean, timestamp, uuid) as UTF-8 text; false for other types.
    /// </summary>
    public static bool TryFormatValue(ReadOnlySpan<byte> encoded, Span<byte> destination, out int written, out ReadOnlySpan<byte> text)
    {
        written = 0;
        text = default;
        if (encoded.IsEmpty)
        {
            return false;
        }

        var reader = new AmqpReader(encoded);
        switch (encoded[0])
        {
            case AmqpFormatCode.String8 or AmqpFormatCode.String32:
                text = reader.ReadString();
                return true;
            case AmqpFormatCode.Symbol8 or AmqpFormatCode.Symbol32:
                text = reader.ReadSymbol();
                return true;
            case AmqpFormatCode.Boolean or AmqpFormatCode.BooleanTrue or AmqpFormatCode.BooleanFalse:
                text = reader.ReadBoolean() ? "True"u8 : "False"u8;
                return true;
            case AmqpFormatCode.Double:
                return reader.ReadDouble().TryFormat(destination, out written, "R", CultureInfo.InvariantCulture);
            case AmqpFormatCode.Float:
                return reader.ReadFloat().TryFormat(destination, out written, "R", CultureInfo.InvariantCulture);
            case AmqpFormatCode.Timestamp:
                return DateTimeOffset.FromUnixTimeMilliseconds(reader.ReadTimestamp()).UtcDateTime.TryFormat(destination, out written, "o", CultureInfo.InvariantCulture);
            case AmqpFormatCode.Uuid:
                return reader.ReadUuid().TryFormat(destination, out written);
            default:
                return GetInteger(encoded) is { } number && number.TryFormat(destination, out written, default, CultureInfo.InvariantCulture);
        }
    }
}
