namespace Broker.Plugins.Management;

/// <summary>The shared access policy permissions an endpoint requires (IoT Hub's names).</summary>
[Flags]
public enum ManagementPermissions
{
    /// <summary>Any caller with a valid policy token.</summary>
    None = 0,

    /// <summary>Read the identity registry.</summary>
    RegistryRead = 1,

    /// <summary>Write the identity registry.</summary>
    RegistryWrite = 2,

    /// <summary>Service-facing operations: twins, methods, cloud-to-device messages.</summary>
    ServiceConnect = 4,
}
