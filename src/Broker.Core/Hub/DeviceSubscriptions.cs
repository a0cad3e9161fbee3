namespace Broker.Core.Hub;

/// <summary>The hub → device features a connection has asked for.</summary>
[Flags]
public enum DeviceSubscriptions
{
    /// <summary>Nothing yet.</summary>
    None = 0,

    /// <summary>Cloud-to-device messages (<c>devices/{id}/messages/devicebound/#</c>).</summary>
    CloudToDevice = 1,

    /// <summary>Direct-method requests (<c>$iothub/methods/POST/#</c>).</summary>
    Methods = 2,

    /// <summary>Twin responses (<c>$iothub/twin/res/#</c>).</summary>
    TwinResponses = 4,

    /// <summary>Desired-property notifications (<c>$iothub/twin/PATCH/properties/desired/#</c>).</summary>
    DesiredProperties = 8,
}
