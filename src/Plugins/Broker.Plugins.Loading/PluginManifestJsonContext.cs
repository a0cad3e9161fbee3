using System.Text.Json;
using System.Text.Json.Serialization;

namespace Broker.Plugins.Loading;

/// <summary>Reads <c>plugin.json</c> without reflection; comments and trailing commas are allowed, names are case-insensitive.</summary>
[JsonSourceGenerationOptions(
    PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase,
    PropertyNameCaseInsensitive = true,
    ReadCommentHandling = JsonCommentHandling.Skip,
    AllowTrailingCommas = true)]
[JsonSerializable(typeof(PluginManifestJson))]
internal sealed partial class PluginManifestJsonContext : JsonSerializerContext;
