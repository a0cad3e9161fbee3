namespace Broker.Protocols.Amqp.Codec;

/// <summary>The header section (§3.2.1).</summary>
public readonly struct AmqpHeader
{
    public bool? Durable { get; init; }

    /// <summary>Absent means 4.</summary>
    public byte? Priority { get; init; }

    /// <summary>Milliseconds.</summary>
    public uint? Ttl { get; init; }

    public bool? FirstAcquirer { get; init; }

    public uint? DeliveryCount { get; init; }

    /// <summary>Decodes a whole header section (descriptor included, as <see cref="AmqpSection.Encoded"/>).</summary>
    public static AmqpHeader Decode(ReadOnlySpan<byte> section)
    {
        var reader = new AmqpReader(section);
        AmqpReader f = AmqpPerformativeBody.Start(ref reader, AmqpDescriptor.Header);
        return new AmqpHeader
        {
            Durable = f.ReadBooleanOrNull(),
            Priority = f.ReadUByteOrNull(),
            Ttl = f.ReadUIntOrNull(),
            FirstAcquirer = f.ReadBooleanOrNull(),
            DeliveryCount = f.ReadUIntOrNull(),
        };
    }

    public void Write(ref AmqpWriter writer)
    {
        writer.BeginDescribedList(AmqpDescriptor.Header);
        writer.WriteBoolean(Durable);
        writer.WriteUByte(Priority);
        writer.WriteUInt(Ttl);
        writer.WriteBoolean(FirstAcquirer);
        writer.WriteUInt(DeliveryCount);
        writer.EndList();
    }
}
