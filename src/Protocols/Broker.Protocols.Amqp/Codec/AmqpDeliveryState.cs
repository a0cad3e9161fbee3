namespace Broker.Protocols.Amqp.Codec;

/// <summary>A delivery state or outcome (§3.4): received, accepted, rejected, released or modified.</summary>
public readonly ref struct AmqpDeliveryState
{
    public AmqpDeliveryStateKind Kind { get; init; }

    /// <summary>received: the section number.</summary>
    public uint SectionNumber { get; init; }

    /// <summary>received: the offset in the section.</summary>
    public ulong SectionOffset { get; init; }

    /// <summary>rejected: why (optional).</summary>
    public AmqpError Error { get; init; }

    /// <summary>modified: count the attempt as a failed delivery.</summary>
    public bool? DeliveryFailed { get; init; }

    /// <summary>modified: do not redeliver to this link.</summary>
    public bool? UndeliverableHere { get; init; }

    /// <summary>modified: annotations to merge (the map's encoding), or empty.</summary>
    public ReadOnlySpan<byte> MessageAnnotations { get; init; }

    /// <summary><see cref="AmqpDeliveryStateKind.Other"/>: the whole encoding.</summary>
    public ReadOnlySpan<byte> Encoded { get; init; }

    public static AmqpDeliveryState Accepted => new() { Kind = AmqpDeliveryStateKind.Accepted };

    public static AmqpDeliveryState Released => new() { Kind = AmqpDeliveryStateKind.Released };

    public static AmqpDeliveryState Rejected(AmqpError error) => new() { Kind = AmqpDeliveryStateKind.Rejected, Error = error };

    public static AmqpDeliveryState Received(uint sectionNumber, ulong sectionOffset)
        => new() { Kind = AmqpDeliveryStateKind.Received, SectionNumber = sectionNumber, SectionOffset = sectionOffset };

    /// <summary>Reads an optional delivery-state field.</summary>
    public static AmqpDeliveryState ReadOptional(scoped ref AmqpReader reader)
    {
        if (reader.TryReadNull())
        {
            return default;
        }

        int start = reader.Position;
        ulong descriptor = reader.ReadDescriptor(out _);
        switch (descriptor)
        {
            case AmqpDescriptor.Accepted:
                reader.ReadList(out _);
                return Accepted;
            case AmqpDescriptor.Released:
                reader.ReadList(out _);
                return Released;
            case AmqpDescriptor.Rejected:
            {
                AmqpReader f = reader.ReadList(out _);
                return Rejected(AmqpError.ReadOptional(ref f));
            }

            case AmqpDescriptor.Received:
            {
                AmqpReader f = reader.ReadList(out _);
                f.RequireField("section-number");
                uint number = f.ReadUInt();
                f.RequireField("section-offset");
                return Received(number, f.ReadULong());
            }

            case AmqpDescriptor.Modified:
            {
                AmqpReader f = reader.ReadList(out _);
                return new AmqpDeliveryState
                {
                    Kind = AmqpDeliveryStateKind.Modified,
                    DeliveryFailed = f.ReadBooleanOrNull(),
                    UndeliverableHere = f.ReadBooleanOrNull(),
                    MessageAnnotations = f.ReadMapOrEmpty(),
                };
            }

            default:
                reader.SkipValue();
                return new AmqpDeliveryState { Kind = AmqpDeliveryStateKind.Other, Encoded = reader.Buffer[start..reader.Position] };
        }
    }

    /// <summary>Writes the state, or null for <see cref="AmqpDeliveryStateKind.None"/>.</summary>
    public void Write(ref AmqpWriter writer)
    {
        switch (Kind)
        {
            case AmqpDeliveryStateKind.None:
                writer.WriteNull();
                return;
            case AmqpDeliveryStateKind.Accepted:
                writer.BeginDescribedList(AmqpDescriptor.Accepted);
                break;
            case AmqpDeliveryStateKind.Released:
                writer.BeginDescribedList(AmqpDescriptor.Released);
                break;
            case AmqpDeliveryStateKind.Rejected:
                writer.BeginDescribedList(AmqpDescriptor.Rejected);
                Error.Write(ref writer);
                break;
            case AmqpDeliveryStateKind.Received:
                writer.BeginDescribedList(AmqpDescriptor.Received);
                writer.WriteUInt(SectionNumber);
                writer.WriteULong(SectionOffset);
                break;
            case AmqpDeliveryStateKind.Modified:
                writer.BeginDescribedList(AmqpDescriptor.Modified);
                writer.WriteBoolean(DeliveryFailed);
                writer.WriteBoolean(UndeliverableHere);
                writer.WriteEncoded(MessageAnnotations);
                break;
            default:
                writer.WriteEncoded(Encoded);
                return;
        }

        writer.EndList();
    }
}
