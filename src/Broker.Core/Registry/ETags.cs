using System.Globalization;
using System.Security.Cryptography;
using System.Text;

namespace Broker.Core.Registry;

/// <summary>IoT Hub's etag handling: opaque base64 values and If-Match semantics.</summary>
public static class ETags
{
    /// <summary>
    /// Whether an If-Match value accepts <paramref name="current"/>. Clients send it quoted (<c>"*"</c>,
    /// <c>"{etag}"</c>), some unquoted; <c>*</c> matches anything; no value means no condition.
    /// </summary>
    public static bool Matches(string? ifMatch, string? current)
    {
        var value = ifMatch.AsSpan().Trim();
        if (value.StartsWith("W/", StringComparison.Ordinal))
        {
            value = value[2..];
        }

        if (value.Length >= 2 && value[0] == '"' && value[^1] == '"')
        {
            value = value[1..^1];
        }

        return value.IsEmpty || value is "*" || (current is not null && value.SequenceEqual(current));
    }

    /// <summary>A fresh etag, different from <paramref name="previous"/>; shaped like IoT Hub's (base64 of a number).</summary>
    public static string New(string? previous = null)
    {
        while (true)
        {
            var number = RandomNumberGenerator.GetInt32(1, int.MaxValue).ToString(CultureInfo.InvariantCulture);
            var etag = Convert.ToBase64String(Encoding.ASCII.GetBytes(number));
            if (etag != previous)
            {
                return etag;
            }
        }
    }
}
