namespace Broker.Protocols.Amqp.Codec;

/// <summary>
/// Numeric descriptors (domain 0x00000000) of the AMQP 1.0 composite types, and the translation of their symbolic
/// names (<c>amqp:open:list</c>...), which peers may send instead.
/// </summary>
public static class AmqpDescriptor
{
    /// <summary>Returned for a symbolic descriptor this codec does not know.</summary>
    public const ulong Unknown = ulong.MaxValue;

    public const ulong Open = 0x10;
    public const ulong Begin = 0x11;
    public const ulong Attach = 0x12;
    public const ulong Flow = 0x13;
    public const ulong Transfer = 0x14;
    public const ulong Disposition = 0x15;
    public const ulong Detach = 0x16;
    public const ulong End = 0x17;
    public const ulong Close = 0x18;
    public const ulong Error = 0x1D;
    public const ulong Received = 0x23;
    public const ulong Accepted = 0x24;
    public const ulong Rejected = 0x25;
    public const ulong Released = 0x26;
    public const ulong Modified = 0x27;
    public const ulong Source = 0x28;
    public const ulong Target = 0x29;
    public const ulong DeleteOnClose = 0x2B;
    public const ulong DeleteOnNoLinks = 0x2C;
    public const ulong DeleteOnNoMessages = 0x2D;
    public const ulong DeleteOnNoLinksOrMessages = 0x2E;
    public const ulong SaslMechanisms = 0x40;
    public const ulong SaslInit = 0x41;
    public const ulong SaslChallenge = 0x42;
    public const ulong SaslResponse = 0x43;
    public const ulong SaslOutcome = 0x44;
    public const ulong Header = 0x70;
    public const ulong DeliveryAnnotations = 0x71;
    public const ulong MessageAnnotations = 0x72;
    public const ulong Properties = 0x73;
    public const ulong ApplicationProperties = 0x74;
    public const ulong Data = 0x75;
    public const ulong AmqpSequence = 0x76;
    public const ulong AmqpValue = 0x77;
    public const ulong Footer = 0x78;

    /// <summary>The numeric code for a symbolic descriptor, or <see cref="Unknown"/>.</summary>
    public static ulong FromSymbol(ReadOnlySpan<byte> symbol)
    {
        if (!symbol.StartsWith("amqp:"u8))
        {
            return Unknown;
        }

        return symbol[5..] switch
        {
            var s when s.SequenceEqual("open:list"u8) => Open,
            var s when s.SequenceEqual("begin:list"u8) => Begin,
            var s when s.SequenceEqual("attach:list"u8) => Attach,
            var s when s.SequenceEqual("flow:list"u8) => Flow,
            var s when s.SequenceEqual("transfer:list"u8) => Transfer,
            var s when s.SequenceEqual("disposition:list"u8) => Disposition,
            var s when s.SequenceEqual("detach:list"u8) => Detach,
            var s when s.SequenceEqual("end:list"u8) => End,
            var s when s.SequenceEqual("close:list"u8) => Close,
            var s when s.SequenceEqual("error:list"u8) => Error,
            var s when s.SequenceEqual("received:list"u8) => Received,
            var s when s.SequenceEqual("accepted:list"u8) => Accepted,
            var s when s.SequenceEqual("rejected:list"u8) => Rejected,
            var s when s.SequenceEqual("released:list"u8) => Released,
            var s when s.SequenceEqual("modified:list"u8) => Modified,
            var s when s.SequenceEqual("source:list"u8) => Source,
            var s when s.SequenceEqual("target:list"u8) => Target,
            var s when s.SequenceEqual("delete-on-close:list"u8) => DeleteOnClose,
            var s when s.SequenceEqual("delete-on-no-links:list"u8) => DeleteOnNoLinks,
            var s when s.SequenceEqual("delete-on-no-messages:list"u8) => DeleteOnNoMessages,
            var s when s.SequenceEqual("delete-on-no-links-or-messages:list"u8) => DeleteOnNoLinksOrMessages,
            var s when s.SequenceEqual("sasl-mechanisms:list"u8) => SaslMechanisms,
            var s when s.SequenceEqual("sasl-init:list"u8) => SaslInit,
            var s when s.SequenceEqual("sasl-challenge:list"u8) => SaslChallenge,
            var s when s.SequenceEqual("sasl-response:list"u8) => SaslResponse,
            var s when s.SequenceEqual("sasl-outcome:list"u8) => SaslOutcome,
            var s when s.SequenceEqual("header:list"u8) => Header,
            var s when s.SequenceEqual("delivery-annotations:map"u8) => DeliveryAnnotations,
            var s when s.SequenceEqual("message-annotations:map"u8) => MessageAnnotations,
            var s when s.SequenceEqual("properties:list"u8) => Properties,
            var s when s.SequenceEqual("application-properties:map"u8) => ApplicationProperties,
            var s when s.SequenceEqual("data:binary"u8) => Data,
            var s when s.SequenceEqual("amqp-sequence:list"u8) => AmqpSequence,
            var s when s.SequenceEqual("amqp-value:*"u8) => AmqpValue,
            var s when s.SequenceEqual("footer:map"u8) => Footer,
            _ => Unknown,
        };
    }
}
