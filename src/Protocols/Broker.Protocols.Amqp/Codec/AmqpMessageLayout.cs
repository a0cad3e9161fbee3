namespace Broker.Protocols.Amqp.Codec;

/// <summary>
/// Where each section of an encoded message lies, as ranges of the message bytes, found in one walk; it holds no
/// reference to the bytes, so it can be kept beside a pooled buffer or a log record.
/// </summary>
public readonly struct AmqpMessageLayout
{
    /// <summary>The whole header section, or an empty range.</summary>
    public Range Header { get; init; }

    public Range DeliveryAnnotations { get; init; }

    public Range MessageAnnotations { get; init; }

    public Range Properties { get; init; }

    public Range ApplicationProperties { get; init; }

    /// <summary>All body sections, from the first to the end of the last.</summary>
    public Range Body { get; init; }

    public Range Footer { get; init; }

    /// <summary>The body kind: data, amqp-sequence or amqp-value; null without a body.</summary>
    public AmqpSectionKind? BodyKind { get; init; }

    /// <summary>The number of body sections.</summary>
    public int BodySectionCount { get; init; }

    /// <summary>The bytes of the first data section (the whole body of a typical IoT Hub message).</summary>
    public Range FirstData { get; init; }

    /// <summary>Walks <paramref name="message"/> once; throws <see cref="AmqpDecodeException"/> when it is malformed.</summary>
    public static AmqpMessageLayout Parse(ReadOnlySpan<byte> message)
    {
        var reader = new AmqpMessageReader(message);
        Range header = default, deliveryAnnotations = default, messageAnnotations = default, properties = default;
        Range applicationProperties = default, footer = default, firstData = default;
        int bodyStart = -1, bodyEnd = -1, bodyCount = 0;
        AmqpSectionKind? bodyKind = null;
        while (reader.TryReadSection(out AmqpSection section))
        {
            var range = new Range(section.Offset, section.Offset + section.Encoded.Length);
            switch (section.Kind)
            {
                case AmqpSectionKind.Header:
                    header = range;
                    break;
                case AmqpSectionKind.DeliveryAnnotations:
                    deliveryAnnotations = range;
                    break;
                case AmqpSectionKind.MessageAnnotations:
                    messageAnnotations = range;
                    break;
                case AmqpSectionKind.Properties:
                    properties = range;
                    break;
                case AmqpSectionKind.ApplicationProperties:
                    applicationProperties = range;
                    break;
                case AmqpSectionKind.Footer:
                    footer = range;
                    break;
                default:
                    if (bodyCount++ == 0)
                    {
                        bodyStart = section.Offset;
                        bodyKind = section.Kind;
                        if (section.Kind == AmqpSectionKind.Data)
                        {
                            int dataStart = section.Offset + section.Encoded.Length - section.Data.Length;
                            firstData = new Range(dataStart, dataStart + section.Data.Length);
                        }
                    }

                    bodyEnd = range.End.Value;
                    break;
            }
        }

        return new AmqpMessageLayout
        {
            Header = header,
            DeliveryAnnotations = deliveryAnnotations,
            MessageAnnotations = messageAnnotations,
            Properties = properties,
            ApplicationProperties = applicationProperties,
            Body = bodyCount == 0 ? default : new Range(bodyStart, bodyEnd),
            Footer = footer,
            BodyKind = bodyKind,
            BodySectionCount = bodyCount,
            FirstData = firstData,
        };
    }
}
