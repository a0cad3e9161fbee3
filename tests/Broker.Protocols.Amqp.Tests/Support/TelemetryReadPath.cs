using System.Buffers;
using Broker.Protocols.Amqp.Codec;

namespace Broker.Protocols.Amqp.Tests.Support;

/// <summary>What a connection does with an incoming telemetry transfer, short of handing it to the hub.</summary>
internal static class TelemetryReadPath
{
    public static long Run(in ReadOnlySequence<byte> buffer)
    {
        if (AmqpFrameReader.TryReadFrame(buffer, 1 << 20, out AmqpFrame frame, out _, out _) != OperationStatus.Done)
        {
            throw new InvalidOperationException("No frame.");
        }

        Span<byte> scratch = stackalloc byte[AmqpTransfer.ScratchSize];
        AmqpTransfer transfer = AmqpTransfer.Decode(frame.Body, scratch, out ReadOnlySequence<byte> payload);
        using var message = new AmqpContiguousBuffer(payload);
        AmqpMessageLayout layout = AmqpMessageLayout.Parse(message.Span);
        AmqpProperties properties = AmqpProperties.Decode(message.Span[layout.Properties]);
        AmqpMessageId messageId = AmqpMessageId.From(properties.MessageId);
        long sum = transfer.DeliveryId.GetValueOrDefault() + transfer.DeliveryTag.Length + (long)messageId.Kind + properties.To.Length;
        var sections = new AmqpMessageReader(message.Span[layout.ApplicationProperties]);
        sections.TryReadSection(out AmqpSection applicationProperties);
        foreach (AmqpMapEntry entry in AmqpMap.Enumerate(applicationProperties.Value))
        {
            sum += entry.KeyText.Length + entry.Value.Length;
        }

        return sum + message.Span[layout.FirstData].Length;
    }
}
