using System.Text.Json.Serialization;
using Broker.Core.Security;

namespace Broker.Core.Registry;

/// <summary>Source-generated JSON for the registry types, shared by storage and the REST surface.</summary>
[JsonSourceGenerationOptions(
    PropertyNameCaseInsensitive = true,
    Converters = [typeof(IotHubTimeConverter)])]
[JsonSerializable(typeof(Device))]
[JsonSerializable(typeof(Module))]
[JsonSerializable(typeof(List<Device>))]
[JsonSerializable(typeof(List<Module>))]
[JsonSerializable(typeof(List<SharedAccessPolicy>))]
public sealed partial class RegistryJsonContext : JsonSerializerContext
{
}
