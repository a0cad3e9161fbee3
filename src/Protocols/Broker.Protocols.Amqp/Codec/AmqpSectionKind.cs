namespace Broker.Protocols.Amqp.Codec;

/// <summary>The sections of an AMQP message (§3.2), in the order they must appear.</summary>
public enum AmqpSectionKind : byte
{
    Header = 0,
    DeliveryAnnotations = 1,
    MessageAnnotations = 2,
    Properties = 3,
    ApplicationProperties = 4,
    Data = 5,
    AmqpSequence = 6,
    AmqpValue = 7,
    Footer = 8,
}
