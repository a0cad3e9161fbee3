namespace Broker.Protocols.Amqp.Codec;

/// <summary>The detach performative (§2.7.6).</summary>
public readonly ref struct AmqpDetach : IAmqpPerformative
{
    public uint Handle { get; init; }

    public bool? Closed { get; init; }

    public AmqpError Error { get; init; }

    public static AmqpDetach Decode(ReadOnlySpan<byte> body)
    {
        var reader = new AmqpReader(body);
        AmqpDetach detach = Read(ref reader);
        AmqpPerformativeBody.EnsureEnd(reader);
        return detach;
    }

    public static AmqpDetach Read(scoped ref AmqpReader reader)
    {
        AmqpReader f = AmqpPerformativeBody.Start(ref reader, AmqpDescriptor.Detach);
        f.RequireField("handle");
        uint handle = f.ReadUInt();
        return new AmqpDetach { Handle = handle, Closed = f.ReadBooleanOrNull(), Error = AmqpError.ReadOptional(ref f) };
    }

    public void Encode(ref AmqpWriter writer)
    {
        writer.BeginDescribedList(AmqpDescriptor.Detach);
        writer.WriteUInt(Handle);
        writer.WriteBoolean(Closed);
        Error.Write(ref writer);
        writer.EndList();
    }
}
