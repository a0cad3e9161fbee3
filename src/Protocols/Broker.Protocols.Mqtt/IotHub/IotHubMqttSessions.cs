using System.Text;
using Broker.Core.Hub;
using Broker.Core.Storage;

namespace Broker.Protocols.Mqtt.IotHub;

/// <summary>
/// Persistent MQTT sessions (CleanSession 0): the hub → device subscriptions of an identity, kept in its
/// partition's state store so they survive reconnects and restarts. CleanSession 1 deletes them. A record holds
/// the subscriptions and the generation id of the identity that made it, so a device deleted and registered
/// again under the same id does not inherit its predecessor's session.
/// </summary>
internal static class IotHubMqttSessions
{
    /// <summary>The stored session of an identity, and whether it was made by the identity's current generation; null if none.</summary>
    public static (DeviceSubscriptions Subscriptions, bool Current)? Read(IStateStore state, string identityKey, string? generationId)
    {
        var value = new System.Buffers.ArrayBufferWriter<byte>(64);
        if (!state.TryRead(StateRecordKind.Session, Encoding.UTF8.GetBytes(identityKey), value) || value.WrittenCount < 1)
        {
            return null;
        }

        return ((DeviceSubscriptions)value.WrittenSpan[0], value.WrittenSpan[1..].SequenceEqual(Encoding.UTF8.GetBytes(generationId ?? "")));
    }

    public static long Save(IStateStore state, string identityKey, string? generationId, DeviceSubscriptions subscriptions)
    {
        var generation = Encoding.UTF8.GetBytes(generationId ?? "");
        var value = new byte[1 + generation.Length];
        value[0] = (byte)subscriptions;
        generation.CopyTo(value, 1);
        return state.Upsert(StateRecordKind.Session, Encoding.UTF8.GetBytes(identityKey), value);
    }

    public static long Delete(IStateStore state, string identityKey)
        => state.Delete(StateRecordKind.Session, Encoding.UTF8.GetBytes(identityKey));
}
