using System.Text.Json.Nodes;
using System.Text.Json.Serialization;

namespace Broker.Core.Twins;

/// <summary>
/// A twin as the state store keeps it (<see cref="Storage.StateRecordKind.Twin"/>, key <c>deviceId</c> or
/// <c>deviceId/moduleId</c>). The generation id ties it to one incarnation of its identity: a twin left behind by a
/// deleted identity (say the process stopped before the twin's delete was durable) is ignored by a re-created one.
/// </summary>
internal sealed class StoredTwin
{
    /// <summary>The generation id of the identity the twin belongs to.</summary>
    [JsonPropertyName("generationId")]
    public string? GenerationId { get; set; }

    /// <summary>The twin counter (<c>version</c>, also the source of the twin etag).</summary>
    [JsonPropertyName("version")]
    public long Version { get; set; } = 1;

    /// <summary>The tags (no metadata, no version).</summary>
    [JsonPropertyName("tags")]
    public JsonObject Tags { get; set; } = new();

    /// <summary>The desired properties.</summary>
    [JsonPropertyName("desired")]
    public StoredTwinSection Desired { get; set; } = new();

    /// <summary>The reported properties.</summary>
    [JsonPropertyName("reported")]
    public StoredTwinSection Reported { get; set; } = new();

    /// <summary>The twin of an identity that was never changed: empty sections at version 1.</summary>
    public static StoredTwin CreateDefault(string? generationId, string lastUpdated) => new()
    {
        GenerationId = generationId,
        Desired = StoredTwinSection.CreateDefault(lastUpdated),
        Reported = StoredTwinSection.CreateDefault(lastUpdated),
    };
}

/// <summary>One property section: its values, its <c>$metadata</c> tree and its <c>$version</c>.</summary>
internal sealed class StoredTwinSection
{
    /// <summary>The properties (no <c>$</c> keys).</summary>
    [JsonPropertyName("properties")]
    public JsonObject Properties { get; set; } = new();

    /// <summary>The <c>$metadata</c> object, mirroring every object node of <see cref="Properties"/>.</summary>
    [JsonPropertyName("metadata")]
    public JsonObject Metadata { get; set; } = new();

    /// <summary>The section's <c>$version</c>.</summary>
    [JsonPropertyName("version")]
    public long Version { get; set; } = 1;

    /// <summary>An empty section at version 1.</summary>
    public static StoredTwinSection CreateDefault(string lastUpdated) => new()
    {
        Metadata = new JsonObject { [TwinMerge.LastUpdated] = lastUpdated },
    };
}

/// <summary>Source-generated JSON for the stored twin records.</summary>
[JsonSerializable(typeof(StoredTwin))]
internal sealed partial class TwinJsonContext : JsonSerializerContext
{
}
