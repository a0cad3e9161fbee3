using System.Text.Json.Serialization;

namespace Broker.Core.Security;

/// <summary>The permissions a shared access policy grants (IoT Hub's names, written comma-separated in JSON).</summary>
[Flags]
[JsonConverter(typeof(JsonStringEnumConverter<AccessRights>))]
public enum AccessRights
{
    /// <summary>Nothing.</summary>
    None = 0,

    /// <summary>Read the identity registry.</summary>
    RegistryRead = 1,

    /// <summary>Write the identity registry (implies <see cref="RegistryRead"/>).</summary>
    RegistryWrite = 2,

    /// <summary>Service-facing endpoints: events, C2D, feedback, twins, queries, methods, jobs.</summary>
    ServiceConnect = 4,

    /// <summary>Device-facing endpoints, for any device the token's resource covers.</summary>
    DeviceConnect = 8,
}
