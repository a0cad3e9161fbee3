using System.Text;
using Broker.Core.Hub;
using Broker.Core.Storage;

namespace Broker.Protocols.Mqtt.IotHub;

/// <summary>
/// Persistent MQTT sessions (CleanSession 0): the hub → device subscriptions of an identity, kept in its
/// partition's state store so they survive reconnects and restarts. CleanSession 1 deletes them.
/// </summary>
internal static class IotHubMqttSessions
{
    public static DeviceSubscriptions? Load(IStateStore state, string identityKey)
    {
        var value = new System.Buffers.ArrayBufferWriter<byte>(4);
        return state.TryRead(StateRecordKind.Session, Encoding.UTF8.GetBytes(identityKey), value) && value.WrittenCount >= 1
            ? (DeviceSubscriptions)value.WrittenSpan[0]
            : null;
    }

    public static long Save(IStateStore state, string identityKey, DeviceSubscriptions subscriptions)
        => state.Upsert(StateRecordKind.Session, Encoding.UTF8.GetBytes(identityKey), [(byte)subscriptions]);

    public static long Delete(IStateStore state, string identityKey)
        => state.Delete(StateRecordKind.Session, Encoding.UTF8.GetBytes(identityKey));
}
