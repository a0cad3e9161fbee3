namespace Broker.Protocols.Amqp.Codec;

/// <summary>The disposition performative (§2.7.7): settles or updates deliveries first..last.</summary>
public readonly ref struct AmqpDisposition : IAmqpPerformative
{
    public AmqpRole Role { get; init; }

    public uint First { get; init; }

    /// <summary>Absent means <see cref="First"/>.</summary>
    public uint? Last { get; init; }

    public bool? Settled { get; init; }

    public AmqpDeliveryState State { get; init; }

    public bool? Batchable { get; init; }

    public uint EffectiveLast => Last ?? First;

    public static AmqpDisposition Decode(ReadOnlySpan<byte> body)
    {
        var reader = new AmqpReader(body);
        AmqpDisposition disposition = Read(ref reader);
        AmqpPerformativeBody.EnsureEnd(reader);
        return disposition;
    }

    public static AmqpDisposition Read(scoped ref AmqpReader reader)
    {
        AmqpReader f = AmqpPerformativeBody.Start(ref reader, AmqpDescriptor.Disposition);
        AmqpRole role = AmqpSettleModes.ReadRole(ref f);
        f.RequireField("first");
        uint first = f.ReadUInt();
        return new AmqpDisposition
        {
            Role = role,
            First = first,
            Last = f.ReadUIntOrNull(),
            Settled = f.ReadBooleanOrNull(),
            State = AmqpDeliveryState.ReadOptional(ref f),
            Batchable = f.ReadBooleanOrNull(),
        };
    }

    public void Encode(ref AmqpWriter writer)
    {
        writer.BeginDescribedList(AmqpDescriptor.Disposition);
        writer.WriteBoolean(Role == AmqpRole.Receiver);
        writer.WriteUInt(First);
        writer.WriteUInt(Last);
        writer.WriteBoolean(Settled);
        State.Write(ref writer);
        writer.WriteBoolean(Batchable);
        writer.EndList();
    }
}
