namespace Broker.Core.Hub;

/// <summary>Why the hub closed a device connection.</summary>
public enum DisconnectReason
{
    /// <summary>The device disconnected, or its transport went away.</summary>
    ClientClosed,

    /// <summary>A newer connection for the same identity took over (IoT Hub's 400027).</summary>
    Takeover,

    /// <summary>The device or module was disabled.</summary>
    DeviceDisabled,

    /// <summary>The device or module was deleted.</summary>
    DeviceDeleted,

    /// <summary>The SAS token or certificate the connection was authenticated with expired.</summary>
    CredentialsExpired,

    /// <summary>Nothing arrived within 1.5 times the keep-alive the device asked for.</summary>
    KeepAliveTimeout,

    /// <summary>The device broke the protocol or the hub's topic grammar.</summary>
    ProtocolViolation,

    /// <summary>The hub is shutting down.</summary>
    ServerShutdown,
}
