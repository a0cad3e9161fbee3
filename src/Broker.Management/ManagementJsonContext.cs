using System.Text.Json.Serialization;

namespace Broker.Management;

/// <summary>Source-generated JSON for the management API's own shapes (devices and policies use RegistryJsonContext).</summary>
[JsonSourceGenerationOptions(PropertyNameCaseInsensitive = true)]
[JsonSerializable(typeof(ManagementErrorDetail))]
[JsonSerializable(typeof(List<string>))]
[JsonSerializable(typeof(string))]
internal sealed partial class ManagementJsonContext : JsonSerializerContext
{
}
