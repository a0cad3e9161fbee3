namespace Broker.Plugins.Management;

/// <summary>A device identity as the registry holds it (without its keys).</summary>
public sealed record DeviceIdentity
{
    /// <summary>The case-sensitive device id.</summary>
    public required string DeviceId { get; init; }

    /// <summary>Differs when an id is deleted and registered again.</summary>
    public required string GenerationId { get; init; }

    /// <summary>The identity's current version, for conditional updates.</summary>
    public required string ETag { get; init; }

    /// <summary>Whether the device may connect.</summary>
    public DeviceStatus Status { get; init; }

    /// <summary>Why the status was set, if a reason was given.</summary>
    public string? StatusReason { get; init; }

    /// <summary>How the device authenticates.</summary>
    public DeviceCredentialType CredentialType { get; init; }

    /// <summary>Whether the device has a live MQTT or AMQP connection.</summary>
    public bool IsConnected { get; init; }

    /// <summary>When the device last connected or sent something.</summary>
    public DateTimeOffset LastActivityTime { get; init; }
}
