using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;

namespace Broker.Management.Cli;

/// <summary>Prints the JSON the API returned, indented, without re-serializing it through our types.</summary>
internal static class JsonOutput
{
    // Relaxed escaping keeps base64 keys readable ('+' instead of \u002B); the text goes to a terminal, not into HTML.
    private static readonly JsonWriterOptions Indented = new() { Indented = true, Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    public static void WriteObject(TextWriter writer, string json) => Write(writer, [json], asArray: false);

    public static void WriteArray(TextWriter writer, IEnumerable<string> items) => Write(writer, items, asArray: true);

    /// <summary>Prints <c>{"name": "value"}</c>.</summary>
    public static void WriteProperty(TextWriter writer, string name, string value)
    {
        using var buffer = new MemoryStream();
        using (var json = new Utf8JsonWriter(buffer, Indented))
        {
            json.WriteStartObject();
            json.WriteString(name, value);
            json.WriteEndObject();
        }

        writer.WriteLine(Encoding.UTF8.GetString(buffer.GetBuffer(), 0, (int)buffer.Length));
    }

    private static void Write(TextWriter writer, IEnumerable<string> items, bool asArray)
    {
        using var buffer = new MemoryStream();
        using (var json = new Utf8JsonWriter(buffer, Indented))
        {
            if (asArray)
            {
                json.WriteStartArray();
            }

            foreach (var item in items)
            {
                using var document = JsonDocument.Parse(item);
                document.WriteTo(json);
            }

            if (asArray)
            {
                json.WriteEndArray();
            }
        }

        writer.WriteLine(Encoding.UTF8.GetString(buffer.GetBuffer(), 0, (int)buffer.Length));
    }
}
