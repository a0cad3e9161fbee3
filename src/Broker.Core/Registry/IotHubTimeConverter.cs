using System.Globalization;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace Broker.Core.Registry;

/// <summary>
/// Writes times as IoT Hub does: UTC with a <c>Z</c> and no trailing zeros, so an unset time is
/// <c>0001-01-01T00:00:00Z</c>. Reads any ISO 8601 form, a missing offset meaning UTC (the C# SDK sends
/// <c>0001-01-01T00:00:00</c>), and null as unset.
/// </summary>
public sealed class IotHubTimeConverter : JsonConverter<DateTimeOffset>
{
    private const string Format = "yyyy-MM-dd'T'HH:mm:ss.FFFFFFF'Z'";

    /// <inheritdoc />
    public override bool HandleNull => true;

    /// <inheritdoc />
    public override DateTimeOffset Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options)
    {
        if (reader.TokenType == JsonTokenType.Null)
        {
            return DateTimeOffset.MinValue;
        }

        if (reader.TokenType != JsonTokenType.String)
        {
            throw new JsonException("A time must be an ISO 8601 string.");
        }

        // Not TryGetDateTimeOffset: it reads a time without offset as local time.
        var text = reader.GetString();
        if (DateTimeOffset.TryParse(text, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var parsed))
        {
            return parsed;
        }

        throw new JsonException($"'{text}' is not an ISO 8601 time.");
    }

    /// <inheritdoc />
    public override void Write(Utf8JsonWriter writer, DateTimeOffset value, JsonSerializerOptions options)
    {
        Span<char> buffer = stackalloc char[32];
        value.UtcDateTime.TryFormat(buffer, out int written, Format, CultureInfo.InvariantCulture);
        writer.WriteStringValue(buffer[..written]);
    }
}
