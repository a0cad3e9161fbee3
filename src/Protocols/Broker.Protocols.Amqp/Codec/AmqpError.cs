namespace Broker.Protocols.Amqp.Codec;

/// <summary>The error composite (§2.8.14) carried by detach, end, close and the rejected outcome.</summary>
public readonly ref struct AmqpError
{
    public AmqpError(ReadOnlySpan<byte> condition, ReadOnlySpan<byte> description = default, ReadOnlySpan<byte> info = default)
    {
        Condition = condition;
        Description = description;
        Info = info;
    }

    /// <summary>The error condition symbol; empty when there is no error.</summary>
    public ReadOnlySpan<byte> Condition { get; init; }

    /// <summary>The description (UTF-8), or empty.</summary>
    public ReadOnlySpan<byte> Description { get; init; }

    /// <summary>The info map's encoding (symbol keys), or empty.</summary>
    public ReadOnlySpan<byte> Info { get; init; }

    /// <summary>Whether there is an error.</summary>
    public bool IsPresent => !Condition.IsEmpty;

    /// <summary>Reads an optional error field: null or absent gives an error that is not present.</summary>
    public static AmqpError ReadOptional(scoped ref AmqpReader reader) => reader.TryReadNull() ? default : Read(ref reader);

    /// <summary>Reads an error composite.</summary>
    public static AmqpError Read(scoped ref AmqpReader reader)
    {
        reader.ReadDescriptor(AmqpDescriptor.Error);
        AmqpReader fields = reader.ReadList(out _);
        fields.RequireField("condition");
        ReadOnlySpan<byte> condition = fields.ReadSymbol();
        if (condition.IsEmpty)
        {
            AmqpDecodeException.ThrowMissing("condition");
        }

        return new AmqpError(condition, fields.ReadStringOrEmpty(), fields.ReadMapOrEmpty());
    }

    /// <summary>Writes the error, or null when it is not present.</summary>
    public void Write(ref AmqpWriter writer)
    {
        if (!IsPresent)
        {
            writer.WriteNull();
            return;
        }

        writer.BeginDescribedList(AmqpDescriptor.Error);
        writer.WriteSymbol(Condition);
        writer.WriteStringOrNull(Description);
        writer.WriteEncoded(Info);
        writer.EndList();
    }
}
