namespace Broker.Protocols.Amqp.Codec;

/// <summary>Why bytes could not be decoded as AMQP; each maps to an AMQP error condition.</summary>
public enum AmqpDecodeError
{
    /// <summary>No error.</summary>
    None,

    /// <summary>A value, list or frame ends before its declared size.</summary>
    Truncated,

    /// <summary>A format code this codec does not know.</summary>
    InvalidFormatCode,

    /// <summary>A value of another type than the field allows.</summary>
    UnexpectedType,

    /// <summary>A size or count that cannot be right (a count larger than its size, an odd map count...).</summary>
    InvalidSize,

    /// <summary>A boolean (0x56) whose byte is neither 0 nor 1.</summary>
    InvalidBoolean,

    /// <summary>Described types nested deeper than the codec follows.</summary>
    NestingTooDeep,

    /// <summary>A mandatory field is absent or null.</summary>
    MissingMandatoryField,

    /// <summary>A value outside the range the field allows (a delivery tag over 32 bytes, a settle mode over 2...).</summary>
    InvalidField,

    /// <summary>A descriptor that names no type expected here.</summary>
    UnexpectedDescriptor,

    /// <summary>A frame whose declared size is below the 8-byte frame header.</summary>
    FrameSizeTooSmall,

    /// <summary>A frame larger than the negotiated max-frame-size.</summary>
    FrameTooLarge,

    /// <summary>A frame whose data offset is below 2 or beyond the frame.</summary>
    InvalidDataOffset,

    /// <summary>A frame type other than AMQP (0) or SASL (1).</summary>
    InvalidFrameType,

    /// <summary>A protocol header other than <c>AMQP</c> id 0/2/3 version 1.0.0.</summary>
    InvalidProtocolHeader,

    /// <summary>Bytes left over in a frame after its performative and no payload is allowed there.</summary>
    TrailingBytes,
}
