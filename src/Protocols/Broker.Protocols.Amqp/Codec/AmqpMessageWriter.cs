namespace Broker.Protocols.Amqp.Codec;

/// <summary>
/// Writes message sections with an <see cref="AmqpWriter"/>, in the order §3.2 requires (the caller's
/// responsibility): header, delivery-annotations, message-annotations, properties, application-properties, body,
/// footer. Map sections are opened here and filled with the writer's key/value calls.
/// </summary>
public static class AmqpMessageWriter
{
    public static void WriteHeader(ref AmqpWriter writer, in AmqpHeader header) => header.Write(ref writer);

    public static void WriteProperties(ref AmqpWriter writer, scoped in AmqpProperties properties) => properties.Write(ref writer);

    public static void BeginDeliveryAnnotations(ref AmqpWriter writer) => BeginMapSection(ref writer, AmqpDescriptor.DeliveryAnnotations);

    public static void BeginMessageAnnotations(ref AmqpWriter writer) => BeginMapSection(ref writer, AmqpDescriptor.MessageAnnotations);

    public static void BeginApplicationProperties(ref AmqpWriter writer) => BeginMapSection(ref writer, AmqpDescriptor.ApplicationProperties);

    public static void BeginFooter(ref AmqpWriter writer) => BeginMapSection(ref writer, AmqpDescriptor.Footer);

    /// <summary>Ends a map section begun above.</summary>
    public static void EndMapSection(ref AmqpWriter writer) => writer.EndMap();

    /// <summary>Writes a data section (the only body IoT Hub clients accept from the hub).</summary>
    public static void WriteData(ref AmqpWriter writer, ReadOnlySpan<byte> data)
    {
        writer.WriteDescriptor(AmqpDescriptor.Data);
        writer.WriteBinary(data);
    }

    /// <summary>Starts an amqp-value section: the value written next is its body.</summary>
    public static void BeginAmqpValue(ref AmqpWriter writer) => writer.WriteDescriptor(AmqpDescriptor.AmqpValue);

    /// <summary>Starts an amqp-sequence section: write the elements, then <see cref="AmqpWriter.EndList"/>.</summary>
    public static void BeginAmqpSequence(ref AmqpWriter writer)
    {
        writer.WriteDescriptor(AmqpDescriptor.AmqpSequence);
        writer.BeginList();
    }

    private static void BeginMapSection(ref AmqpWriter writer, ulong descriptor)
    {
        writer.WriteDescriptor(descriptor);
        writer.BeginMap();
    }
}
