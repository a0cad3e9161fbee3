using System.Buffers;
using System.Text;

namespace Broker.Core.Telemetry;

/// <summary>One property of a message's property bag, decoded.</summary>
/// <param name="Name">The decoded name; system properties keep their <c>$.</c> prefix (e.g. <c>$.mid</c>).</param>
/// <param name="Value">The decoded value, or null for a name sent without <c>=</c>.</param>
public readonly record struct MessageProperty(string Name, string? Value)
{
    /// <summary>True for the <c>$.</c> keys by which devices set system properties (message id, content type…).</summary>
    public bool IsSystem => Name.StartsWith("$.", StringComparison.Ordinal);
}

/// <summary>
/// Parses the URL-encoded property bag a device sends with a message (the MQTT topic's tail,
/// <c>$.mid=1&amp;$.ct=application%2Fjson&amp;alert</c>): pairs split on <c>&amp;</c>, name and value on the first
/// <c>=</c>, each percent-decoded as UTF-8. <c>+</c> stays <c>+</c> (the SDKs escape spaces as <c>%20</c>), a
/// <c>%</c> that starts no escape is kept, empty pairs are skipped, and a name without <c>=</c> has a null value.
/// </summary>
public static class MessagePropertyBag
{
    /// <summary>The IoT Hub system property (its AMQP name) that a <c>$.</c> key sets, or null for unknown keys.</summary>
    public static string? SystemPropertyName(string key) => key switch
    {
        "$.mid" => "message-id",
        "$.cid" => "correlation-id",
        "$.ct" => "content-type",
        "$.ce" => "content-encoding",
        "$.uid" => "user-id",
        "$.to" => "to",
        "$.exp" => "absolute-expiry-time",
        "$.ctime" => "iothub-creation-time-utc",
        "$.sub" => "dt-subject",
        "$.ifid" => "iothub-interface-id",
        "$.schema" => "dt-dataschema",
        _ => null,
    };

    /// <summary>Every property in the order sent.</summary>
    public static List<MessageProperty> Parse(ReadOnlySpan<byte> bag)
    {
        var properties = new List<MessageProperty>();
        while (!bag.IsEmpty)
        {
            int end = bag.IndexOf((byte)'&');
            var pair = end < 0 ? bag : bag[..end];
            bag = end < 0 ? default : bag[(end + 1)..];
            if (pair.IsEmpty)
            {
                continue;
            }

            int equals = pair.IndexOf((byte)'=');
            properties.Add(equals < 0
                ? new MessageProperty(Decode(pair), null)
                : new MessageProperty(Decode(pair[..equals]), Decode(pair[(equals + 1)..])));
        }

        return properties;
    }

    /// <summary>Parses a bag given as text (UTF-8 encoded first).</summary>
    public static List<MessageProperty> Parse(string bag)
    {
        ArgumentNullException.ThrowIfNull(bag);
        return Parse(Encoding.UTF8.GetBytes(bag));
    }

    /// <summary>Percent-decodes <paramref name="encoded"/> and reads the bytes as UTF-8 (invalid sequences become U+FFFD).</summary>
    public static string Decode(ReadOnlySpan<byte> encoded)
    {
        if (encoded.IndexOf((byte)'%') < 0)
        {
            return Encoding.UTF8.GetString(encoded);
        }

        byte[]? rented = encoded.Length > 256 ? ArrayPool<byte>.Shared.Rent(encoded.Length) : null;
        Span<byte> decoded = rented ?? stackalloc byte[256];
        try
        {
            int written = 0;
            for (int i = 0; i < encoded.Length; i++)
            {
                byte b = encoded[i];
                if (b == '%' && i + 2 < encoded.Length && TryHex(encoded[i + 1], out int high) && TryHex(encoded[i + 2], out int low))
                {
                    decoded[written++] = (byte)((high << 4) | low);
                    i += 2;
                }
                else
                {
                    decoded[written++] = b;
                }
            }

            return Encoding.UTF8.GetString(decoded[..written]);
        }
        finally
        {
            if (rented is not null)
            {
                ArrayPool<byte>.Shared.Return(rented);
            }
        }
    }

    private static bool TryHex(byte c, out int value)
    {
        value = c switch
        {
            >= (byte)'0' and <= (byte)'9' => c - '0',
            >= (byte)'a' and <= (byte)'f' => c - 'a' + 10,
            >= (byte)'A' and <= (byte)'F' => c - 'A' + 10,
            _ => -1,
        };
        return value >= 0;
    }
}
