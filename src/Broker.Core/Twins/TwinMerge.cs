using System.Globalization;
using System.Text.Json.Nodes;

namespace Broker.Core.Twins;

/// <summary>
/// JSON merge patch over twin sections, keeping IoT Hub's <c>$metadata</c>: every object node has an entry with
/// <c>$lastUpdated</c> (and, in desired, <c>$lastUpdatedVersion</c>), every leaf one with just those. A patch stamps
/// each node it touches and every object on the way there, so a deletion shows in its parent's stamp.
/// </summary>
internal static class TwinMerge
{
    public const string LastUpdated = "$lastUpdated";
    public const string LastUpdatedVersion = "$lastUpdatedVersion";

    /// <summary><c>$lastUpdated</c> as IoT Hub writes it: UTC with milliseconds.</summary>
    public static string Stamp(DateTimeOffset time)
        => time.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.fff'Z'", CultureInfo.InvariantCulture);

    /// <summary>
    /// Applies a validated <paramref name="patch"/> to <paramref name="target"/>: members set or replaced,
    /// <c>null</c> deletes, objects merge recursively. <paramref name="metadata"/> (null for tags) follows along;
    /// <paramref name="version"/> is the section's new version for <c>$lastUpdatedVersion</c>, or null (reported).
    /// </summary>
    public static void Apply(JsonObject target, JsonObject? metadata, JsonObject patch, string stamp, long? version)
    {
        foreach (var (key, value) in patch)
        {
            if (value is null)
            {
                target.Remove(key);
                metadata?.Remove(key);
            }
            else if (value is JsonObject child)
            {
                if (target[key] is not JsonObject existing)
                {
                    existing = new JsonObject();
                    target[key] = existing;
                }

                JsonObject? childMetadata = null;
                if (metadata is not null)
                {
                    childMetadata = metadata[key] as JsonObject ?? NewEntry(stamp, version);
                    metadata[key] = childMetadata;
                }

                Apply(existing, childMetadata, child, stamp, version);
            }
            else
            {
                target[key] = value.DeepClone();
                if (metadata is not null)
                {
                    metadata[key] = NewEntry(stamp, version);
                }
            }
        }

        if (metadata is not null)
        {
            metadata[LastUpdated] = stamp;
            if (version is { } v)
            {
                metadata[LastUpdatedVersion] = v;
            }
        }
    }

    /// <summary>
    /// The merge patch that turns <paramref name="current"/> into <paramref name="replacement"/>: removed members as
    /// <c>null</c>, changed ones by value, changed objects as nested patches. Empty when nothing differs.
    /// </summary>
    public static JsonObject Diff(JsonObject current, JsonObject replacement)
    {
        var patch = new JsonObject();
        foreach (var (key, _) in current)
        {
            if (!replacement.ContainsKey(key))
            {
                patch[key] = null;
            }
        }

        foreach (var (key, value) in replacement)
        {
            if (!current.TryGetPropertyValue(key, out var existing))
            {
                patch[key] = value?.DeepClone();
            }
            else if (existing is JsonObject existingObject && value is JsonObject valueObject)
            {
                var nested = Diff(existingObject, valueObject);
                if (nested.Count > 0)
                {
                    patch[key] = nested;
                }
            }
            else if (!JsonNode.DeepEquals(existing, value))
            {
                patch[key] = value?.DeepClone();
            }
        }

        return patch;
    }

    /// <summary>A patch deleting every member of <paramref name="section"/>.</summary>
    public static JsonObject DeleteAll(JsonObject section)
    {
        var patch = new JsonObject();
        foreach (var (key, _) in section)
        {
            patch[key] = null;
        }

        return patch;
    }

    private static JsonObject NewEntry(string stamp, long? version)
    {
        var entry = new JsonObject { [LastUpdated] = stamp };
        if (version is { } v)
        {
            entry[LastUpdatedVersion] = v;
        }

        return entry;
    }
}
