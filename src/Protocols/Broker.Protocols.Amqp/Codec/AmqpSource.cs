namespace Broker.Protocols.Amqp.Codec;

/// <summary>The source composite (§3.5.3) of an attach.</summary>
public readonly ref struct AmqpSource
{
    /// <summary>Whether the attach carried a source (a null source is not present).</summary>
    public bool IsPresent { get; init; }

    /// <summary>The address (a string for every IoT Hub client), or empty.</summary>
    public ReadOnlySpan<byte> Address { get; init; }

    /// <summary>terminus-durability: 0 none, 1 configuration, 2 unsettled-state; absent means 0.</summary>
    public uint? Durable { get; init; }

    /// <summary>terminus-expiry-policy symbol; absent means session-end.</summary>
    public ReadOnlySpan<byte> ExpiryPolicy { get; init; }

    /// <summary>Seconds; absent means 0.</summary>
    public uint? Timeout { get; init; }

    public bool? Dynamic { get; init; }

    public ReadOnlySpan<byte> DynamicNodeProperties { get; init; }

    public ReadOnlySpan<byte> DistributionMode { get; init; }

    /// <summary>The filter-set map's encoding, or empty.</summary>
    public ReadOnlySpan<byte> Filter { get; init; }

    /// <summary>The default outcome's encoding (a described delivery state), or empty.</summary>
    public ReadOnlySpan<byte> DefaultOutcome { get; init; }

    public ReadOnlySpan<byte> Outcomes { get; init; }

    public ReadOnlySpan<byte> Capabilities { get; init; }

    /// <summary>Reads an optional source field.</summary>
    public static AmqpSource ReadOptional(scoped ref AmqpReader reader)
    {
        if (reader.TryReadNull())
        {
            return default;
        }

        AmqpReader f = AmqpPerformativeBody.Start(ref reader, AmqpDescriptor.Source);
        return new AmqpSource
        {
            IsPresent = true,
            Address = f.ReadStringOrEmpty(),
            Durable = f.ReadUIntOrNull(),
            ExpiryPolicy = f.ReadSymbolOrEmpty(),
            Timeout = f.ReadUIntOrNull(),
            Dynamic = f.ReadBooleanOrNull(),
            DynamicNodeProperties = f.ReadMapOrEmpty(),
            DistributionMode = f.ReadSymbolOrEmpty(),
            Filter = f.ReadMapOrEmpty(),
            DefaultOutcome = f.ReadEncodedValueOrEmpty(),
            Outcomes = f.ReadMultipleSymbolOrEmpty(),
            Capabilities = f.ReadMultipleSymbolOrEmpty(),
        };
    }

    /// <summary>Writes the source, or null when it is not present.</summary>
    public void Write(ref AmqpWriter writer)
    {
        if (!IsPresent)
        {
            writer.WriteNull();
            return;
        }

        writer.BeginDescribedList(AmqpDescriptor.Source);
        writer.WriteStringOrNull(Address);
        writer.WriteUInt(Durable);
        writer.WriteSymbolOrNull(ExpiryPolicy);
        writer.WriteUInt(Timeout);
        writer.WriteBoolean(Dynamic);
        writer.WriteEncoded(DynamicNodeProperties);
        writer.WriteSymbolOrNull(DistributionMode);
        writer.WriteEncoded(Filter);
        writer.WriteEncoded(DefaultOutcome);
        writer.WriteEncoded(Outcomes);
        writer.WriteEncoded(Capabilities);
        writer.EndList();
    }
}
