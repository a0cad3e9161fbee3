namespace Broker.Protocols.Amqp.Codec;

/// <summary>Maps decode failures to the AMQP error condition a peer is closed with.</summary>
public static class AmqpDecodeErrorExtensions
{
    /// <summary>The AMQP error condition for <paramref name="error"/>: framing errors close the connection as such.</summary>
    public static ReadOnlySpan<byte> GetCondition(this AmqpDecodeError error) => error switch
    {
        AmqpDecodeError.None => default,
        AmqpDecodeError.FrameSizeTooSmall or AmqpDecodeError.FrameTooLarge or AmqpDecodeError.InvalidDataOffset
            or AmqpDecodeError.InvalidFrameType or AmqpDecodeError.InvalidProtocolHeader => AmqpErrorConditions.FramingError,
        AmqpDecodeError.InvalidField => AmqpErrorConditions.InvalidField,
        _ => AmqpErrorConditions.DecodeError,
    };

    /// <summary>A short description for the error's description field and logs.</summary>
    public static string GetDescription(this AmqpDecodeError error) => error switch
    {
        AmqpDecodeError.None => "No error.",
        AmqpDecodeError.Truncated => "A value ends before its declared size.",
        AmqpDecodeError.InvalidFormatCode => "Unknown format code.",
        AmqpDecodeError.UnexpectedType => "A field has a type it does not allow.",
        AmqpDecodeError.InvalidSize => "A size or count is invalid.",
        AmqpDecodeError.InvalidBoolean => "A boolean is neither 0 nor 1.",
        AmqpDecodeError.NestingTooDeep => "Values are nested too deeply.",
        AmqpDecodeError.MissingMandatoryField => "A mandatory field is missing.",
        AmqpDecodeError.InvalidField => "A field has an invalid value.",
        AmqpDecodeError.UnexpectedDescriptor => "Unexpected descriptor.",
        AmqpDecodeError.FrameSizeTooSmall => "The frame size is below the frame header size.",
        AmqpDecodeError.FrameTooLarge => "The frame exceeds the maximum frame size.",
        AmqpDecodeError.InvalidDataOffset => "The frame's data offset is invalid.",
        AmqpDecodeError.InvalidFrameType => "Unknown frame type.",
        AmqpDecodeError.InvalidProtocolHeader => "Unsupported protocol header.",
        AmqpDecodeError.TrailingBytes => "Unexpected bytes after the performative.",
        _ => error.ToString(),
    };
}
