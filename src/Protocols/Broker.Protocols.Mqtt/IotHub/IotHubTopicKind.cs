namespace Broker.Protocols.Mqtt.IotHub;

/// <summary>What a device-to-hub topic is, in IoT Hub's MQTT grammar.</summary>
public enum IotHubTopicKind
{
    /// <summary>Not part of the grammar, or another identity's topic: the connection is closed.</summary>
    Invalid,

    /// <summary><c>devices/{d}/messages/events/{bag}</c> or the module form.</summary>
    Telemetry,

    /// <summary><c>$iothub/twin/GET/?$rid=…</c>.</summary>
    TwinGet,

    /// <summary><c>$iothub/twin/PATCH/properties/reported/?$rid=…</c>.</summary>
    TwinReportedPatch,

    /// <summary><c>$iothub/methods/res/{status}/?$rid=…</c>.</summary>
    MethodResponse,
}
