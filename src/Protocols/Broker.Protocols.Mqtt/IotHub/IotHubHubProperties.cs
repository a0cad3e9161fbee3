namespace Broker.Protocols.Mqtt.IotHub;

/// <summary>
/// Application properties the hub adds to a device's telemetry property bag (stored URL-encoded, as it arrived):
/// <c>mqtt-retain=true</c> for a PUBLISH with RETAIN set (IoT Hub stores nothing for later subscribers, it forwards
/// the message with this property) and <c>iothub-MessageType=Will</c> for a Will message.
/// </summary>
internal static class IotHubHubProperties
{
    /// <summary>Added for a PUBLISH or Will with RETAIN set.</summary>
    public static ReadOnlySpan<byte> Retain => "mqtt-retain=true"u8;

    /// <summary>Added to a Will message when the hub sends it.</summary>
    public static ReadOnlySpan<byte> Will => "iothub-MessageType=Will"u8;

    /// <summary>The length of <paramref name="bag"/> with <paramref name="property"/> appended.</summary>
    public static int AppendedLength(ReadOnlySpan<byte> bag, ReadOnlySpan<byte> property)
        => bag.Length + (bag.IsEmpty ? 0 : 1) + property.Length;

    /// <summary>Writes <paramref name="bag"/> then <paramref name="property"/> (joined by <c>&amp;</c>) into <paramref name="destination"/>.</summary>
    public static int Append(ReadOnlySpan<byte> bag, ReadOnlySpan<byte> property, Span<byte> destination)
    {
        bag.CopyTo(destination);
        int written = bag.Length;
        if (!bag.IsEmpty)
        {
            destination[written++] = (byte)'&';
        }

        property.CopyTo(destination[written..]);
        return written + property.Length;
    }
}
