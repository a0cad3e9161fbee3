namespace Broker.Core.Hub;

/// <summary>
/// The hub's handle on one live device connection (hub → device). Protocols implement it; they translate each
/// call to their own framing and hold no hub state. Every member is safe to call from any thread.
/// </summary>
public interface IDeviceProxy
{
    /// <summary>Who is connected.</summary>
    DeviceContext Context { get; }

    /// <summary>What the device has subscribed to (MQTT subscriptions, AMQP links).</summary>
    DeviceSubscriptions Subscriptions { get; }

    /// <summary>Closes the connection as the protocol does it (MQTT: drop the socket).</summary>
    void Close(DisconnectReason reason);

    /// <summary>
    /// Sends a direct-method request; false when the device is not subscribed to methods or its outbound queue is
    /// full. The device's answer is handed to the hub's method invoker.
    /// </summary>
    bool SendMethodRequest(string methodName, string requestId, ReadOnlyMemory<byte> payload);

    /// <summary>Sends a desired-properties patch (its body already carries <c>"$version"</c>) if the device subscribed to them.</summary>
    void SendDesiredPropertiesPatch(long version, ReadOnlyMemory<byte> patch);

    /// <summary>Tells the connection that its cloud-to-device queue has messages it may not have seen.</summary>
    void CloudToDeviceAvailable();
}
