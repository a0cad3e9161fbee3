namespace Broker.Core.Hub;

/// <summary>The hub's handle on one live device connection (hub → device).</summary>
public interface IDeviceProxy
{
    /// <summary>Who is connected.</summary>
    DeviceContext Context { get; }

    /// <summary>Closes the connection as the protocol does it (MQTT: drop the socket).</summary>
    void Close(DisconnectReason reason);
}
