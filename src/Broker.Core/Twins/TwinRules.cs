using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Broker.Core.Errors;

namespace Broker.Core.Twins;

/// <summary>
/// IoT Hub's limits on twin documents, and the validation of incoming tags and properties against them. Every
/// violation is a 400004 ArgumentInvalid naming the rule.
/// </summary>
public static class TwinRules
{
    /// <summary>The longest key, in UTF-8 bytes.</summary>
    public const int MaxKeyBytes = 1024;

    /// <summary>The longest string value, in UTF-8 bytes.</summary>
    public const int MaxStringBytes = 4 * 1024;

    /// <summary>How deeply objects (and arrays) may nest below a section's root.</summary>
    public const int MaxDepth = 10;

    /// <summary>The smallest integer value.</summary>
    public const long MinInteger = -4503599627370496;

    /// <summary>The largest integer value.</summary>
    public const long MaxInteger = 4503599627370495;

    /// <summary>The largest tags section (see <see cref="SizeOf"/>).</summary>
    public const int MaxTagsBytes = 8 * 1024;

    /// <summary>The largest desired-properties section (see <see cref="SizeOf"/>).</summary>
    public const int MaxDesiredBytes = 32 * 1024;

    /// <summary>The largest reported-properties section (see <see cref="SizeOf"/>).</summary>
    public const int MaxReportedBytes = 32 * 1024;

    /// <summary>Root keys of a section that a patch may carry (the SDKs send back what they got) and that are ignored.</summary>
    internal const string VersionKey = "$version";

    /// <summary>See <see cref="VersionKey"/>.</summary>
    internal const string MetadataKey = "$metadata";

    private static readonly JsonDocumentOptions s_documentOptions = new() { AllowDuplicateProperties = false };

    /// <summary>
    /// The size IoT Hub counts against a section's limit: the UTF-8 length of every key, plus every value
    /// (strings by UTF-8 length, numbers 8 bytes, booleans 4 bytes, objects and arrays by their contents).
    /// </summary>
    public static long SizeOf(JsonObject section)
    {
        ArgumentNullException.ThrowIfNull(section);
        long size = 0;
        foreach (var (key, value) in section)
        {
            size += Encoding.UTF8.GetByteCount(key) + SizeOf(value);
        }

        return size;
    }

    private static long SizeOf(JsonNode? value) => value switch
    {
        JsonObject obj => SizeOf(obj),
        JsonArray array => array.Sum(SizeOf),
        JsonValue leaf => leaf.GetValueKind() switch
        {
            JsonValueKind.String => Encoding.UTF8.GetByteCount(leaf.GetValue<string>()),
            JsonValueKind.Number => 8,
            JsonValueKind.True or JsonValueKind.False => 4,
            _ => 0,
        },
        _ => 0,
    };

    /// <summary>Parses a request body that must be a JSON object; 400004 otherwise.</summary>
    internal static JsonObject ParseObject(ReadOnlySpan<byte> body, string what)
    {
        JsonNode? node;
        try
        {
            node = JsonNode.Parse(body, documentOptions: s_documentOptions);
        }
        catch (JsonException ex)
        {
            throw IotHubErrors.ArgumentInvalid($"The {what} is not valid JSON: {ex.Message}");
        }

        return node as JsonObject ?? throw IotHubErrors.ArgumentInvalid($"The {what} must be a JSON object.");
    }

    /// <summary>
    /// Validates one section of a request (<paramref name="section"/> names it in messages) and returns a clean
    /// copy: root <c>$version</c>/<c>$metadata</c> left out, and <c>null</c> members kept as deletions when
    /// <paramref name="isPatch"/>, dropped otherwise (a replacement has nothing to delete).
    /// </summary>
    internal static JsonObject ValidateSection(JsonNode? node, string section, bool isPatch)
    {
        if (node is not JsonObject obj)
        {
            throw IotHubErrors.ArgumentInvalid($"'{section}' must be a JSON object.");
        }

        try
        {
            var clean = new JsonObject();
            foreach (var (key, value) in obj)
            {
                if (key is VersionKey or MetadataKey)
                {
                    continue;
                }

                clean[key] = ValidateMember(key, value, section, 1, isPatch ? NullMode.Delete : NullMode.Drop, out bool keep);
                if (!keep)
                {
                    clean.Remove(key);
                }
            }

            return clean;
        }
        catch (InvalidOperationException ex)
        {
            // System.Text.Json refuses to materialize a string with a lone surrogate escape (\uD800).
            throw IotHubErrors.ArgumentInvalid($"'{section}' contains a key or string that is not valid UTF-16/UTF-8: {ex.Message}");
        }
    }

    /// <summary>Throws when <paramref name="section"/> exceeds <paramref name="maxBytes"/> (after a patch was applied).</summary>
    internal static void RequireSize(JsonObject section, int maxBytes, string name)
    {
        long size = SizeOf(section);
        if (size > maxBytes)
        {
            throw IotHubErrors.ArgumentInvalid(string.Create(CultureInfo.InvariantCulture,
                $"The {name} would be {size} bytes; the limit is {maxBytes} bytes (key lengths plus values)."));
        }
    }

    private enum NullMode
    {
        Delete,
        Drop,
        Refuse,
    }

    private static JsonNode? ValidateMember(string key, JsonNode? value, string path, int depth, NullMode nulls, out bool keep)
    {
        ValidateKey(key, path);
        path = path + "." + key;
        keep = true;
        if (value is null)
        {
            switch (nulls)
            {
                case NullMode.Delete:
                    return null;
                case NullMode.Drop:
                    keep = false;
                    return null;
                default:
                    throw IotHubErrors.ArgumentInvalid($"'{path}' is null; null is only allowed in a patch, to delete a property.");
            }
        }

        return ValidateValue(value, path, depth, nulls);
    }

    private static JsonNode ValidateValue(JsonNode value, string path, int depth, NullMode nulls)
    {
        switch (value)
        {
            case JsonObject obj:
                RequireDepth(path, depth);
                var copy = new JsonObject();
                foreach (var (key, child) in obj)
                {
                    var clean = ValidateMember(key, child, path, depth + 1, nulls, out bool keep);
                    if (keep)
                    {
                        copy[key] = clean;
                    }
                }

                return copy;

            case JsonArray array:
                RequireDepth(path, depth);
                var items = new JsonArray();
                for (int i = 0; i < array.Count; i++)
                {
                    var item = array[i] ?? throw IotHubErrors.ArgumentInvalid($"'{path}[{i}]' is null; arrays may not contain null.");
                    items.Add(ValidateValue(item, path + "[" + i.ToString(CultureInfo.InvariantCulture) + "]", depth + 1, NullMode.Refuse));
                }

                return items;

            case JsonValue leaf:
                switch (leaf.GetValueKind())
                {
                    case JsonValueKind.String:
                        var text = leaf.GetValue<string>();
                        if (text.Length > MaxStringBytes / 3 && Encoding.UTF8.GetByteCount(text) > MaxStringBytes)
                        {
                            throw IotHubErrors.ArgumentInvalid($"The string value of '{path}' exceeds {MaxStringBytes} bytes.");
                        }

                        return JsonValue.Create(text);

                    case JsonValueKind.Number:
                        RequireIntegerRange(leaf, path);
                        return leaf.DeepClone();

                    case JsonValueKind.True:
                    case JsonValueKind.False:
                        return leaf.DeepClone();

                    default:
                        throw IotHubErrors.ArgumentInvalid($"'{path}' must be a boolean, number, string, object or array.");
                }

            default:
                throw IotHubErrors.ArgumentInvalid($"'{path}' must be a boolean, number, string, object or array.");
        }
    }

    private static void RequireDepth(string path, int depth)
    {
        if (depth > MaxDepth)
        {
            throw IotHubErrors.ArgumentInvalid($"'{path}' is nested {depth} levels deep; the limit is {MaxDepth}.");
        }
    }

    private static void RequireIntegerRange(JsonValue number, string path)
    {
        var raw = number.ToJsonString();
        if (raw.AsSpan().IndexOfAny('.', 'e', 'E') >= 0)
        {
            return; // a floating-point number
        }

        if (!long.TryParse(raw, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out long integer)
            || integer is < MinInteger or > MaxInteger)
        {
            throw IotHubErrors.ArgumentInvalid(
                $"The integer value of '{path}' is outside {MinInteger}..{MaxInteger}.");
        }
    }

    private static void ValidateKey(string key, string path)
    {
        if (key.Length > MaxKeyBytes / 3 && Encoding.UTF8.GetByteCount(key) > MaxKeyBytes)
        {
            throw IotHubErrors.ArgumentInvalid($"A key in '{path}' exceeds {MaxKeyBytes} bytes.");
        }

        foreach (char c in key)
        {
            if (c < 0x20 || c is >= '\u007F' and <= '\u009F')
            {
                throw IotHubErrors.ArgumentInvalid($"The key '{path}.{Printable(key)}' contains a control character.");
            }

            if (c is '.' or '$' or ' ')
            {
                throw IotHubErrors.ArgumentInvalid($"The key '{path}.{Printable(key)}' contains '{c}'; keys may not contain '.', '$' or space.");
            }
        }
    }

    private static string Printable(string key)
    {
        var builder = new StringBuilder(Math.Min(key.Length, 64));
        foreach (char c in key.AsSpan(0, Math.Min(key.Length, 64)))
        {
            builder.Append(char.IsControl(c) ? '?' : c);
        }

        return builder.ToString();
    }
}
