namespace Broker.Core.Security;

/// <summary>The result of authenticating a device, module or service caller.</summary>
public readonly record struct AuthResult
{
    /// <summary>The outcome.</summary>
    public AuthStatus Status { get; init; }

    /// <summary>How the caller authenticated (on success).</summary>
    public AuthMethod Method { get; init; }

    /// <summary>The authenticated device id (device and module connections).</summary>
    public string? DeviceId { get; init; }

    /// <summary>The authenticated module id, if a module connected.</summary>
    public string? ModuleId { get; init; }

    /// <summary>The generation id of the authenticated identity.</summary>
    public string? GenerationId { get; init; }

    /// <summary>The policy that signed the token, for policy tokens.</summary>
    public string? PolicyName { get; init; }

    /// <summary>When the token expires; MQTT connections are closed then. Null for certificates.</summary>
    public DateTimeOffset? ExpiresAt { get; init; }

    /// <summary>Whether authentication succeeded.</summary>
    public bool Succeeded => Status == AuthStatus.Success;

    /// <summary>A failure with the given reason.</summary>
    public static AuthResult Failed(AuthStatus status) => new() { Status = status };
}
