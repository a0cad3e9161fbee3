using System.Buffers;
using System.Globalization;
using Broker.Protocols.Amqp.Codec;

namespace Broker.Protocols.Amqp.IotHub;

/// <summary>
/// Writes an AMQP message's properties as the URL-encoded property bag MQTT devices send (and the events log
/// stores): <c>$.mid</c>, <c>$.cid</c>, <c>$.ct</c>, <c>$.ce</c>, <c>$.uid</c>, <c>$.to</c>, <c>$.exp</c>, then the
/// application properties (<c>iothub-creation-time-utc</c> as <c>$.ctime</c>), then <c>dt-subject</c> and
/// <c>iothub-interface-id</c> annotations as <c>$.sub</c> and <c>$.ifid</c>. Nothing is allocated.
/// </summary>
internal static class PropertyBagWriter
{
    public static void Write(ArrayBufferWriter<byte> bag, ReadOnlySpan<byte> message, in AmqpMessageLayout layout)
    {
        Span<byte> scratch = stackalloc byte[64];
        if (layout.Properties.End.Value > 0)
        {
            var properties = AmqpProperties.Decode(message[layout.Properties]);
            WriteId(bag, "$.mid"u8, properties.MessageId, scratch);
            WriteId(bag, "$.cid"u8, properties.CorrelationId, scratch);
            WritePair(bag, "$.ct"u8, properties.ContentType);
            WritePair(bag, "$.ce"u8, properties.ContentEncoding);
            WritePair(bag, "$.uid"u8, properties.UserId);
            WritePair(bag, "$.to"u8, properties.To);
            if (properties.AbsoluteExpiryTime is { } expiry
                && DateTimeOffset.FromUnixTimeMilliseconds(Math.Clamp(expiry, 0, 253402300799999)).UtcDateTime.TryFormat(scratch, out int written, "o", CultureInfo.InvariantCulture))
            {
                WritePair(bag, "$.exp"u8, scratch[..written]);
            }
        }

        if (layout.ApplicationProperties.End.Value > 0)
        {
            var section = message[layout.ApplicationProperties];
            var reader = new AmqpReader(section);
            reader.ReadDescriptor(out _);
            foreach (AmqpMapEntry entry in AmqpMap.Enumerate(reader.UnreadSpan))
            {
                ReadOnlySpan<byte> key = entry.KeyText;
                if (key.IsEmpty || !IotHubAmqpMessages.TryFormatValue(entry.Value, scratch, out int written, out ReadOnlySpan<byte> text))
                {
                    continue;
                }

                ReadOnlySpan<byte> value = text.IsEmpty && written > 0 ? scratch[..written] : text;
                if (key.SequenceEqual("iothub-creation-time-utc"u8))
                {
                    WritePair(bag, "$.ctime"u8, value);
                }
                else
                {
                    Separator(bag);
                    Encode(bag, key);
                    bag.Write("="u8);
                    Encode(bag, value);
                }
            }
        }

        if (layout.MessageAnnotations.End.Value > 0)
        {
            var section = message[layout.MessageAnnotations];
            var reader = new AmqpReader(section);
            reader.ReadDescriptor(out _);
            ReadOnlySpan<byte> map = reader.UnreadSpan;
            if (AmqpMap.TryGetValue(map, "dt-subject"u8, out var subject))
            {
                WritePair(bag, "$.sub"u8, AmqpMap.GetText(subject));
            }

            if (AmqpMap.TryGetValue(map, "iothub-interface-id"u8, out var interfaceId))
            {
                WritePair(bag, "$.ifid"u8, AmqpMap.GetText(interfaceId));
            }
        }
    }

    private static void WriteId(ArrayBufferWriter<byte> bag, ReadOnlySpan<byte> key, ReadOnlySpan<byte> encoded, Span<byte> scratch)
    {
        var id = AmqpMessageId.From(encoded);
        switch (id.Kind)
        {
            case AmqpMessageIdKind.String:
                WritePair(bag, key, id.GetBytes());
                break;
            case AmqpMessageIdKind.Uuid when id.GetUuid().TryFormat(scratch, out int written):
                WritePair(bag, key, scratch[..written]);
                break;
            case AmqpMessageIdKind.ULong when id.GetULong().TryFormat(scratch, out int written, default, CultureInfo.InvariantCulture):
                WritePair(bag, key, scratch[..written]);
                break;
            case AmqpMessageIdKind.Binary:
                var bytes = id.GetBytes();
                if (bytes.Length <= scratch.Length / 2 && Convert.TryToHexString(bytes, scratch, out int hex))
                {
                    WritePair(bag, key, scratch[..hex]);
                }

                break;
        }
    }

    private static void WritePair(ArrayBufferWriter<byte> bag, ReadOnlySpan<byte> systemKey, ReadOnlySpan<byte> value)
    {
        if (value.IsEmpty)
        {
            return;
        }

        Separator(bag);
        bag.Write(systemKey);
        bag.Write("="u8);
        Encode(bag, value);
    }

    private static void Separator(ArrayBufferWriter<byte> bag)
    {
        if (bag.WrittenCount > 0)
        {
            bag.Write("&"u8);
        }
    }

    // Percent-encodes everything but RFC 3986's unreserved characters, as the SDKs' Uri.EscapeDataString does.
    private static void Encode(ArrayBufferWriter<byte> bag, ReadOnlySpan<byte> value)
    {
        Span<byte> output = bag.GetSpan(value.Length * 3);
        int written = 0;
        foreach (byte b in value)
        {
            if (b is (>= (byte)'a' and <= (byte)'z') or (>= (byte)'A' and <= (byte)'Z') or (>= (byte)'0' and <= (byte)'9') or (byte)'-' or (byte)'.' or (byte)'_' or (byte)'~')
            {
                output[written++] = b;
            }
            else
            {
                output[written++] = (byte)'%';
                output[written++] = Hex(b >> 4);
                output[written++] = Hex(b & 0xF);
            }
        }

        bag.Advance(written);
    }

    private static byte Hex(int nibble) => (byte)(nibble < 10 ? '0' + nibble : 'A' + nibble - 10);
}
