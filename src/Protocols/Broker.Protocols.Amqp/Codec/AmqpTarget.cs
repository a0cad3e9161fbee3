namespace Broker.Protocols.Amqp.Codec;

/// <summary>The target composite (§3.5.4) of an attach. A transaction coordinator target is not supported.</summary>
public readonly ref struct AmqpTarget
{
    /// <summary>Whether the attach carried a target (a null target is not present).</summary>
    public bool IsPresent { get; init; }

    public ReadOnlySpan<byte> Address { get; init; }

    public uint? Durable { get; init; }

    public ReadOnlySpan<byte> ExpiryPolicy { get; init; }

    public uint? Timeout { get; init; }

    public bool? Dynamic { get; init; }

    public ReadOnlySpan<byte> DynamicNodeProperties { get; init; }

    public ReadOnlySpan<byte> Capabilities { get; init; }

    public static AmqpTarget ReadOptional(scoped ref AmqpReader reader)
    {
        if (reader.TryReadNull())
        {
            return default;
        }

        AmqpReader f = AmqpPerformativeBody.Start(ref reader, AmqpDescriptor.Target);
        return new AmqpTarget
        {
            IsPresent = true,
            Address = f.ReadStringOrEmpty(),
            Durable = f.ReadUIntOrNull(),
            ExpiryPolicy = f.ReadSymbolOrEmpty(),
            Timeout = f.ReadUIntOrNull(),
            Dynamic = f.ReadBooleanOrNull(),
            DynamicNodeProperties = f.ReadMapOrEmpty(),
            Capabilities = f.ReadMultipleSymbolOrEmpty(),
        };
    }

    public void Write(ref AmqpWriter writer)
    {
        if (!IsPresent)
        {
            writer.WriteNull();
            return;
        }

        writer.BeginDescribedList(AmqpDescriptor.Target);
        writer.WriteStringOrNull(Address);
        writer.WriteUInt(Durable);
        writer.WriteSymbolOrNull(ExpiryPolicy);
        writer.WriteUInt(Timeout);
        writer.WriteBoolean(Dynamic);
        writer.WriteEncoded(DynamicNodeProperties);
        writer.WriteEncoded(Capabilities);
        writer.EndList();
    }
}
