using System.Diagnostics.CodeAnalysis;

namespace Broker.Protocols.Amqp.Codec;

/// <summary>
/// Malformed AMQP input: the only exception the decoders throw for bad bytes. It carries the decode error, from
/// which <see cref="AmqpDecodeErrorExtensions.GetCondition"/> gives the AMQP condition to close the peer with.
/// </summary>
public sealed class AmqpDecodeException : Exception
{
    public AmqpDecodeException()
        : this(AmqpDecodeError.Truncated)
    {
    }

    public AmqpDecodeException(string message)
        : base(message)
    {
        Error = AmqpDecodeError.InvalidField;
    }

    public AmqpDecodeException(string message, Exception innerException)
        : base(message, innerException)
    {
        Error = AmqpDecodeError.InvalidField;
    }

    public AmqpDecodeException(AmqpDecodeError error, string? detail = null)
        : base(detail is null ? error.GetDescription() : $"{error.GetDescription()} ({detail})")
    {
        Error = error;
    }

    /// <summary>What was wrong.</summary>
    public AmqpDecodeError Error { get; }

    /// <summary>The AMQP error condition for <see cref="Error"/>.</summary>
    public ReadOnlySpan<byte> Condition => Error.GetCondition();

    [DoesNotReturn]
    internal static void Throw(AmqpDecodeError error) => throw new AmqpDecodeException(error);

    [DoesNotReturn]
    internal static void Throw(AmqpDecodeError error, string detail) => throw new AmqpDecodeException(error, detail);

    [DoesNotReturn]
    internal static void ThrowMissing(string field) => throw new AmqpDecodeException(AmqpDecodeError.MissingMandatoryField, field);
}
