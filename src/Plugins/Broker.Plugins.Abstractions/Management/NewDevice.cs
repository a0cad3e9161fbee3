namespace Broker.Plugins.Management;

/// <summary>A device to register with <see cref="IHubServiceClient.CreateDeviceAsync"/>.</summary>
public sealed record NewDevice
{
    /// <summary>The case-sensitive device id (IoT Hub's rules: up to 128 characters of letters, digits and <c>-.%_*?!(),:=@$'</c>).</summary>
    public required string DeviceId { get; init; }

    /// <summary>Whether the device may connect; enabled unless set.</summary>
    public DeviceStatus Status { get; init; }

    /// <summary>Why the status is set, at most 128 characters.</summary>
    public string? StatusReason { get; init; }

    /// <summary>How the device authenticates; SAS unless set.</summary>
    public DeviceCredentialType CredentialType { get; init; }

    /// <summary>The primary symmetric key, base64; the hub generates one when null and <see cref="CredentialType"/> is SAS.</summary>
    public string? PrimaryKey { get; init; }

    /// <summary>The secondary symmetric key, base64; the hub generates one when null and <see cref="CredentialType"/> is SAS.</summary>
    public string? SecondaryKey { get; init; }

    /// <summary>The primary certificate thumbprint (hex) for <see cref="DeviceCredentialType.SelfSigned"/>.</summary>
    public string? PrimaryThumbprint { get; init; }

    /// <summary>The secondary certificate thumbprint (hex) for <see cref="DeviceCredentialType.SelfSigned"/>.</summary>
    public string? SecondaryThumbprint { get; init; }
}
