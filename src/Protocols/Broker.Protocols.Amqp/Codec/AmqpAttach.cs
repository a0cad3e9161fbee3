namespace Broker.Protocols.Amqp.Codec;

/// <summary>The attach performative (§2.7.3).</summary>
public readonly ref struct AmqpAttach : IAmqpPerformative
{
    public ReadOnlySpan<byte> Name { get; init; }

    public uint Handle { get; init; }

    public AmqpRole Role { get; init; }

    /// <summary>Absent means mixed.</summary>
    public AmqpSenderSettleMode? SndSettleMode { get; init; }

    /// <summary>Absent means first.</summary>
    public AmqpReceiverSettleMode? RcvSettleMode { get; init; }

    public AmqpSource Source { get; init; }

    public AmqpTarget Target { get; init; }

    /// <summary>The unsettled map's encoding, or empty.</summary>
    public ReadOnlySpan<byte> Unsettled { get; init; }

    public bool? IncompleteUnsettled { get; init; }

    /// <summary>Mandatory when the role is sender.</summary>
    public uint? InitialDeliveryCount { get; init; }

    public ulong? MaxMessageSize { get; init; }

    public ReadOnlySpan<byte> OfferedCapabilities { get; init; }

    public ReadOnlySpan<byte> DesiredCapabilities { get; init; }

    /// <summary>The link properties map's encoding (<c>com.microsoft:api-version</c>...), or empty.</summary>
    public ReadOnlySpan<byte> Properties { get; init; }

    public AmqpSenderSettleMode EffectiveSndSettleMode => SndSettleMode ?? AmqpSenderSettleMode.Mixed;

    public AmqpReceiverSettleMode EffectiveRcvSettleMode => RcvSettleMode ?? AmqpReceiverSettleMode.First;

    public static AmqpAttach Decode(ReadOnlySpan<byte> body)
    {
        var reader = new AmqpReader(body);
        AmqpAttach attach = Read(ref reader);
        AmqpPerformativeBody.EnsureEnd(reader);
        return attach;
    }

    public static AmqpAttach Read(scoped ref AmqpReader reader)
    {
        AmqpReader f = AmqpPerformativeBody.Start(ref reader, AmqpDescriptor.Attach);
        f.RequireField("name");
        ReadOnlySpan<byte> name = f.ReadString();
        f.RequireField("handle");
        uint handle = f.ReadUInt();
        AmqpRole role = AmqpSettleModes.ReadRole(ref f);
        return new AmqpAttach
        {
            Name = name,
            Handle = handle,
            Role = role,
            SndSettleMode = AmqpSettleModes.ReadSender(ref f),
            RcvSettleMode = AmqpSettleModes.ReadReceiver(ref f),
            Source = AmqpSource.ReadOptional(ref f),
            Target = AmqpTarget.ReadOptional(ref f),
            Unsettled = f.ReadMapOrEmpty(),
            IncompleteUnsettled = f.ReadBooleanOrNull(),
            InitialDeliveryCount = f.ReadUIntOrNull(),
            MaxMessageSize = f.ReadULongOrNull(),
            OfferedCapabilities = f.ReadMultipleSymbolOrEmpty(),
            DesiredCapabilities = f.ReadMultipleSymbolOrEmpty(),
            Properties = f.ReadMapOrEmpty(),
        };
    }

    public void Encode(ref AmqpWriter writer)
    {
        writer.BeginDescribedList(AmqpDescriptor.Attach);
        writer.WriteString(Name);
        writer.WriteUInt(Handle);
        writer.WriteBoolean(Role == AmqpRole.Receiver);
        writer.WriteUByte((byte?)SndSettleMode);
        writer.WriteUByte((byte?)RcvSettleMode);
        Source.Write(ref writer);
        Target.Write(ref writer);
        writer.WriteEncoded(Unsettled);
        writer.WriteBoolean(IncompleteUnsettled);
        writer.WriteUInt(InitialDeliveryCount);
        writer.WriteULong(MaxMessageSize);
        writer.WriteEncoded(OfferedCapabilities);
        writer.WriteEncoded(DesiredCapabilities);
        writer.WriteEncoded(Properties);
        writer.EndList();
    }
}
