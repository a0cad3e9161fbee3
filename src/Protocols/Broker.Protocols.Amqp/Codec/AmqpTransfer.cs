using System.Buffers;

namespace Broker.Protocols.Amqp.Codec;

/// <summary>
/// The transfer performative (§2.7.5). Decoding it gives the payload (the message bytes, or a part of them when
/// <see cref="More"/> is set) as a slice of the frame, never a copy.
/// </summary>
public readonly ref struct AmqpTransfer : IAmqpPerformative
{
    /// <summary>The largest delivery tag (§2.8.7).</summary>
    public const int MaxDeliveryTagLength = 32;

    /// <summary>
    /// Scratch space <see cref="Decode(in ReadOnlySequence{byte}, Span{byte}, out ReadOnlySequence{byte})"/> needs when
    /// a performative straddles buffer segments; a transfer whose performative is larger (only a huge delivery
    /// state could make it so) is then rejected.
    /// </summary>
    public const int ScratchSize = 512;

    public uint Handle { get; init; }

    /// <summary>Present on the first transfer of a delivery.</summary>
    public uint? DeliveryId { get; init; }

    /// <summary>Present on the first transfer of a delivery; at most 32 bytes.</summary>
    public ReadOnlySpan<byte> DeliveryTag { get; init; }

    /// <summary>Absent means 0 (<see cref="AmqpMessageFormat.Standard"/>).</summary>
    public uint? MessageFormat { get; init; }

    public bool? Settled { get; init; }

    /// <summary>Further transfers of the same delivery follow.</summary>
    public bool More { get; init; }

    public AmqpReceiverSettleMode? RcvSettleMode { get; init; }

    public AmqpDeliveryState State { get; init; }

    public bool Resume { get; init; }

    public bool Aborted { get; init; }

    public bool Batchable { get; init; }

    /// <summary>Decodes a transfer from a contiguous frame body; the payload starts at <paramref name="payloadOffset"/>.</summary>
    public static AmqpTransfer Decode(ReadOnlySpan<byte> body, out int payloadOffset)
    {
        var reader = new AmqpReader(body);
        AmqpTransfer transfer = Read(ref reader);
        payloadOffset = reader.Position;
        return transfer;
    }

    /// <summary>
    /// Decodes a transfer from a frame body that may span segments. The performative is read in place when it lies in
    /// the first segment; otherwise it is copied into <paramref name="scratch"/> (at least <see cref="ScratchSize"/>
    /// bytes, typically stackalloc'd), which the returned span fields then point into.
    /// </summary>
    public static AmqpTransfer Decode(in ReadOnlySequence<byte> body, Span<byte> scratch, out ReadOnlySequence<byte> payload)
    {
        ReadOnlySpan<byte> first = body.FirstSpan;
        if (body.IsSingleSegment || (AmqpPerformativeBody.TryMeasure(first, out int length) && length <= first.Length))
        {
            AmqpTransfer inPlace = Decode(first, out int offset);
            payload = body.Slice(offset);
            return inPlace;
        }

        int gathered = (int)Math.Min(body.Length, scratch.Length);
        body.Slice(0, gathered).CopyTo(scratch);
        if (!AmqpPerformativeBody.TryMeasure(scratch[..gathered], out length) || length > gathered)
        {
            AmqpDecodeException.Throw(body.Length <= scratch.Length ? AmqpDecodeError.Truncated : AmqpDecodeError.InvalidSize, "transfer performative");
        }

        AmqpTransfer copied = Decode(scratch[..length], out int copiedOffset);
        payload = body.Slice(copiedOffset);
        return copied;
    }

    public static AmqpTransfer Read(scoped ref AmqpReader reader)
    {
        AmqpReader f = AmqpPerformativeBody.Start(ref reader, AmqpDescriptor.Transfer);
        f.RequireField("handle");
        uint handle = f.ReadUInt();
        uint? deliveryId = f.ReadUIntOrNull();
        ReadOnlySpan<byte> tag = f.ReadBinaryOrEmpty();
        if (tag.Length > MaxDeliveryTagLength)
        {
            AmqpDecodeException.Throw(AmqpDecodeError.InvalidField, "delivery-tag longer than 32 bytes");
        }

        return new AmqpTransfer
        {
            Handle = handle,
            DeliveryId = deliveryId,
            DeliveryTag = tag,
            MessageFormat = f.ReadUIntOrNull(),
            Settled = f.ReadBooleanOrNull(),
            More = f.ReadBooleanOrNull() ?? false,
            RcvSettleMode = AmqpSettleModes.ReadReceiver(ref f),
            State = AmqpDeliveryState.ReadOptional(ref f),
            Resume = f.ReadBooleanOrNull() ?? false,
            Aborted = f.ReadBooleanOrNull() ?? false,
            Batchable = f.ReadBooleanOrNull() ?? false,
        };
    }

    public void Encode(ref AmqpWriter writer)
    {
        writer.BeginDescribedList(AmqpDescriptor.Transfer);
        writer.WriteUInt(Handle);
        writer.WriteUInt(DeliveryId);
        if (DeliveryTag.IsEmpty && DeliveryId is not null)
        {
            writer.WriteBinary(default); // the first transfer of a delivery carries a tag, even an empty one
        }
        else
        {
            writer.WriteBinaryOrNull(DeliveryTag);
        }

        writer.WriteUInt(MessageFormat);
        writer.WriteBoolean(Settled);
        WriteFlag(ref writer, More);
        writer.WriteUByte((byte?)RcvSettleMode);
        State.Write(ref writer);
        WriteFlag(ref writer, Resume);
        WriteFlag(ref writer, Aborted);
        WriteFlag(ref writer, Batchable);
        writer.EndList();
    }

    // false is the default of these fields: written as null so that trailing ones are trimmed.
    private static void WriteFlag(ref AmqpWriter writer, bool value)
    {
        if (value)
        {
            writer.WriteBoolean(true);
        }
        else
        {
            writer.WriteNull();
        }
    }
}
