using System.Text.Json.Serialization;

namespace Broker.Core.Registry;

/// <summary>An identity's pair of base64 keys (<c>authentication.symmetricKey</c>).</summary>
public sealed record SymmetricKey
{
    /// <summary>The primary key, base64.</summary>
    [JsonPropertyName("primaryKey")]
    public string? PrimaryKey { get; init; }

    /// <summary>The secondary key, base64.</summary>
    [JsonPropertyName("secondaryKey")]
    public string? SecondaryKey { get; init; }
}
