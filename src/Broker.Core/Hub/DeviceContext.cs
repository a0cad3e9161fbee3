using Broker.Core.Security;

namespace Broker.Core.Hub;

/// <summary>What a connection knows about the identity it authenticated as.</summary>
public sealed class DeviceContext
{
    private static long s_epochs;

    /// <summary>Creates the context of a freshly authenticated connection.</summary>
    public DeviceContext(string deviceId, string? moduleId, ProtocolKind protocol, AuthMethod authMethod, string? generationId,
        DateTimeOffset connectedAt, DateTimeOffset? credentialsExpireAt)
    {
        DeviceId = deviceId;
        ModuleId = moduleId;
        Protocol = protocol;
        AuthMethod = authMethod;
        GenerationId = generationId;
        ConnectedAt = connectedAt;
        CredentialsExpireAt = credentialsExpireAt;
        IdentityKey = IdentityKeyOf(deviceId, moduleId);
        Epoch = Interlocked.Increment(ref s_epochs);
    }

    /// <summary>The device id.</summary>
    public string DeviceId { get; }

    /// <summary>The module id, for module identities.</summary>
    public string? ModuleId { get; }

    /// <summary><c>deviceId</c> or <c>deviceId/moduleId</c>: the key of the one live connection per identity.</summary>
    public string IdentityKey { get; }

    /// <summary>The transport.</summary>
    public ProtocolKind Protocol { get; }

    /// <summary>How the connection authenticated.</summary>
    public AuthMethod AuthMethod { get; }

    /// <summary>The identity's generation id when it authenticated.</summary>
    public string? GenerationId { get; }

    /// <summary>When the connection was accepted.</summary>
    public DateTimeOffset ConnectedAt { get; }

    /// <summary>When the credentials expire (SAS token <c>se</c>, certificate end); the hub closes the connection then.</summary>
    public DateTimeOffset? CredentialsExpireAt { get; }

    /// <summary>Rises with every connection: tells a newer connection of an identity from an older one.</summary>
    public long Epoch { get; }

    /// <summary>The identity key of a device or module.</summary>
    public static string IdentityKeyOf(string deviceId, string? moduleId) => moduleId is null ? deviceId : $"{deviceId}/{moduleId}";
}
