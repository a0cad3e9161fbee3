using System.Text.Json.Serialization;

namespace Broker.Core.Security;

/// <summary>A hub-level shared access policy (the <c>skn</c> of a SAS token), in IoT Hub's authorization-rule shape.</summary>
public sealed record SharedAccessPolicy
{
    /// <summary>The policy name, e.g. <c>iothubowner</c>.</summary>
    [JsonPropertyName("keyName")]
    public required string KeyName { get; init; }

    /// <summary>The primary key, base64.</summary>
    [JsonPropertyName("primaryKey")]
    public required string PrimaryKey { get; init; }

    /// <summary>The secondary key, base64.</summary>
    [JsonPropertyName("secondaryKey")]
    public required string SecondaryKey { get; init; }

    /// <summary>What the policy grants.</summary>
    [JsonPropertyName("rights")]
    public AccessRights Rights { get; init; }

    /// <summary>Whether the policy grants every right in <paramref name="required"/>.</summary>
    public bool Grants(AccessRights required)
    {
        var effective = Rights;
        if ((effective & AccessRights.RegistryWrite) != 0)
        {
            effective |= AccessRights.RegistryRead;
        }

        return (effective & required) == required;
    }
}
