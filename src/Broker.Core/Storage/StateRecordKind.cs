namespace Broker.Core.Storage;

/// <summary>The kinds of state record a partition keeps; the byte value is part of the on-disk key.</summary>
public enum StateRecordKind : byte
{
    /// <summary>A device or module identity (key: device id, or device id + '/' + module id).</summary>
    Registry = 1,

    /// <summary>A device or module twin document.</summary>
    Twin = 2,

    /// <summary>A persistent MQTT session (subscriptions and in-flight state).</summary>
    Session = 3,

    /// <summary>The head and tail of a device's cloud-to-device queue.</summary>
    CloudToDeviceQueue = 4,

    /// <summary>One cloud-to-device message (key: device id + sequence).</summary>
    CloudToDeviceMessage = 5,

    /// <summary>A named reader's position in the events log (consumer groups, routing endpoints).</summary>
    ReaderPosition = 6,

    /// <summary>Hub-wide records (policies, consumer-group names); kept in partition 0.</summary>
    Hub = 7,
}
