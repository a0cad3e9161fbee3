using System.Globalization;
using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;
using Broker.Management.V1;

namespace Broker.Management.Cli;

/// <summary>
/// An event as <c>az iot hub monitor-events --props all</c> prints it:
/// <c>{"event":{"origin","module","interface","component","payload","annotations","properties":{"system","application"}}}</c>,
/// here on one line per event (JSON Lines) so scripts can read it.
/// </summary>
internal static class EventJson
{
    private static readonly JsonWriterOptions Options = new() { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    // AMQP message properties: az prints them by their Python names (message_id, content_type…).
    private static readonly Dictionary<string, string> s_systemNames = new(StringComparer.Ordinal)
    {
        ["message-id"] = "message_id",
        ["correlation-id"] = "correlation_id",
        ["content-type"] = "content_type",
        ["content-encoding"] = "content_encoding",
        ["user-id"] = "user_id",
        ["to"] = "to",
        ["absolute-expiry-time"] = "absolute_expiry_time",
    };

    private static readonly UTF8Encoding s_strictUtf8 = new(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);

    public static string Format(EventMessage message)
    {
        using var buffer = new MemoryStream();
        using (var json = new Utf8JsonWriter(buffer, Options))
        {
            var system = message.SystemProperties;
            json.WriteStartObject();
            json.WriteStartObject("event");
            json.WriteString("origin", message.DeviceId);
            json.WriteString("module", message.ModuleId);
            json.WriteString("interface", system.TryGetValue("iothub-interface-id", out var iface) ? iface : "");
            json.WriteString("component", system.TryGetValue("dt-subject", out var component) ? component : "");
            json.WritePropertyName("payload");
            WritePayload(json, message.Body.Span);

            json.WriteStartObject("annotations");
            foreach (var (name, value) in system.Where(p => p.Key.StartsWith("iothub-", StringComparison.Ordinal)).OrderBy(p => p.Key, StringComparer.Ordinal))
            {
                if (name == "iothub-enqueuedtime")
                {
                    json.WriteNumber(name, UnixMilliseconds(value));
                }
                else
                {
                    json.WriteString(name, value);
                }
            }

            json.WriteNumber("x-opt-sequence-number", message.SequenceNumber);
            json.WriteString("x-opt-offset", message.Offset.ToString(CultureInfo.InvariantCulture));
            json.WriteNumber("x-opt-enqueued-time", UnixMilliseconds(message.EnqueuedTime));
            json.WriteNumber("x-opt-partition-id", message.Partition);
            json.WriteEndObject();

            json.WriteStartObject("properties");
            json.WriteStartObject("system");
            foreach (var (name, value) in system.Where(p => !p.Key.StartsWith("iothub-", StringComparison.Ordinal)).OrderBy(p => p.Key, StringComparer.Ordinal))
            {
                json.WriteString(s_systemNames.GetValueOrDefault(name, name), value);
            }

            json.WriteEndObject();
            json.WriteStartObject("application");
            foreach (var (name, value) in message.Properties.OrderBy(p => p.Key, StringComparer.Ordinal))
            {
                json.WriteString(name, value);
            }

            json.WriteEndObject();
            json.WriteEndObject();
            json.WriteEndObject();
            json.WriteEndObject();
        }

        return Encoding.UTF8.GetString(buffer.GetBuffer(), 0, (int)buffer.Length);
    }

    /// <summary>JSON as JSON, other UTF-8 text as a string, anything else as base64 (az would fail to decode it).</summary>
    private static void WritePayload(Utf8JsonWriter json, ReadOnlySpan<byte> body)
    {
        string text;
        try
        {
            text = s_strictUtf8.GetString(body);
        }
        catch (DecoderFallbackException)
        {
            json.WriteBase64StringValue(body);
            return;
        }

        try
        {
            using var document = JsonDocument.Parse(body.ToArray());
            document.WriteTo(json);
        }
        catch (JsonException)
        {
            json.WriteStringValue(text);
        }
    }

    private static long UnixMilliseconds(string rfc3339)
        => DateTimeOffset.TryParse(rfc3339, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var time) ? time.ToUnixTimeMilliseconds() : 0;
}
