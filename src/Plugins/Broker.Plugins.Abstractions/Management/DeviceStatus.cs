namespace Broker.Plugins.Management;

/// <summary>Whether a device may connect.</summary>
public enum DeviceStatus
{
    /// <summary>The device may connect.</summary>
    Enabled = 0,

    /// <summary>The device is refused and its connections are closed.</summary>
    Disabled = 1,
}
