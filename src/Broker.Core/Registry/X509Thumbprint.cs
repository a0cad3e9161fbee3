using System.Text.Json.Serialization;

namespace Broker.Core.Registry;

/// <summary>An identity's registered certificate thumbprints, SHA-1 (40 hex) or SHA-256 (64 hex).</summary>
public sealed record X509Thumbprint
{
    /// <summary>The primary thumbprint.</summary>
    [JsonPropertyName("primaryThumbprint")]
    public string? PrimaryThumbprint { get; init; }

    /// <summary>The secondary thumbprint.</summary>
    [JsonPropertyName("secondaryThumbprint")]
    public string? SecondaryThumbprint { get; init; }
}
