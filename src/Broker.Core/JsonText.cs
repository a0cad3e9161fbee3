using System.Text.Json;

namespace Broker.Core;

/// <summary>Checks on JSON that devices send (message bodies, method payloads).</summary>
internal static class JsonText
{
    /// <summary>Whether <paramref name="utf8"/> is exactly one JSON value.</summary>
    public static bool IsSingleValue(ReadOnlySpan<byte> utf8)
    {
        try
        {
            var reader = new Utf8JsonReader(utf8);
            return reader.Read() && reader.TrySkip() && !reader.Read();
        }
        catch (JsonException)
        {
            return false;
        }
    }
}
