using System.Buffers;
using BenchmarkDotNet.Attributes;
using Broker.Protocols.Amqp.Codec;

namespace Broker.Benchmarks.Amqp;

/// <summary>
/// The AMQP read-loop hot path for device telemetry: find a transfer frame in the receive buffer, decode the
/// transfer and walk the message in place (message-id, properties, application properties, 1 KB data), and the
/// write path for the same frame. Budget: 0 B allocated per message (enforced by
/// <c>AmqpAllocationBudgetTests</c> against <c>benchmarks/allocation-budget.json</c>).
/// </summary>
[MemoryDiagnoser]
public class TransferParseBenchmarks
{
    private readonly ArrayBufferWriter<byte> _output = new(4096);
    private byte[] _message = [];
    private ReadOnlySequence<byte> _singleSegment;
    private ReadOnlySequence<byte> _splitInPerformative;

    [GlobalSetup]
    public void Setup()
    {
        _message = TelemetryMessage(1024);
        var frame = new ArrayBufferWriter<byte>();
        AmqpFrameWriter.WriteFrame(frame, AmqpFrameType.Amqp, 0, new AmqpTransfer { Handle = 1, DeliveryId = 17, DeliveryTag = [0, 0, 0, 17], MessageFormat = 0 }, _message);
        byte[] bytes = frame.WrittenSpan.ToArray();
        _singleSegment = new ReadOnlySequence<byte>(bytes);

        // The same frame cut inside the transfer performative, as at a pipe block boundary: the slow path.
        var first = new Segment(bytes.AsMemory(0, 20), 0);
        Segment last = first.Append(bytes.AsMemory(20));
        _splitInPerformative = new ReadOnlySequence<byte>(first, 0, last, last.Memory.Length);
        if (DecodeAndWalk() != DecodeAndWalkSplit())
        {
            throw new InvalidOperationException("The split frame did not decode to the same message.");
        }
    }

    /// <summary>Frame reader + transfer decode: the payload is a slice of the receive buffer.</summary>
    [Benchmark]
    public long FrameAndTransfer()
    {
        AmqpFrame frame = ReadFrame(_singleSegment);
        Span<byte> scratch = stackalloc byte[AmqpTransfer.ScratchSize];
        AmqpTransfer transfer = AmqpTransfer.Decode(frame.Body, scratch, out ReadOnlySequence<byte> payload);
        return transfer.DeliveryId.GetValueOrDefault() + payload.Length;
    }

    /// <summary>The telemetry read path: frame, transfer, section walk, properties, message-id, application properties.</summary>
    [Benchmark(Baseline = true)]
    public long DecodeAndWalk() => Walk(_singleSegment);

    /// <summary>The same with the frame split inside the performative (the performative and payload are copied once).</summary>
    [Benchmark]
    public long DecodeAndWalkSplit() => Walk(_splitInPerformative);

    /// <summary>The write path: a transfer frame with the encoded message, into a reused buffer writer.</summary>
    [Benchmark]
    public int WriteTransferFrame()
    {
        _output.ResetWrittenCount();
        return AmqpFrameWriter.WriteFrame(_output, AmqpFrameType.Amqp, 0, new AmqpTransfer { Handle = 1, DeliveryId = 17, DeliveryTag = [0, 0, 0, 17], MessageFormat = 0 }, _message);
    }

    private static long Walk(in ReadOnlySequence<byte> buffer)
    {
        AmqpFrame frame = ReadFrame(buffer);
        Span<byte> scratch = stackalloc byte[AmqpTransfer.ScratchSize];
        AmqpTransfer transfer = AmqpTransfer.Decode(frame.Body, scratch, out ReadOnlySequence<byte> payload);
        using var message = new AmqpContiguousBuffer(payload);
        AmqpMessageLayout layout = AmqpMessageLayout.Parse(message.Span);
        AmqpProperties properties = AmqpProperties.Decode(message.Span[layout.Properties]);
        AmqpMessageId messageId = AmqpMessageId.From(properties.MessageId);
        long sum = transfer.DeliveryId.GetValueOrDefault() + transfer.DeliveryTag.Length + (long)messageId.Kind + properties.To.Length + properties.ContentType.Length;
        var sections = new AmqpMessageReader(message.Span[layout.ApplicationProperties]);
        sections.TryReadSection(out AmqpSection applicationProperties);
        foreach (AmqpMapEntry entry in AmqpMap.Enumerate(applicationProperties.Value))
        {
            sum += entry.KeyText.Length + entry.Value.Length;
        }

        return sum + message.Span[layout.FirstData].Length;
    }

    private static AmqpFrame ReadFrame(in ReadOnlySequence<byte> buffer)
    {
        if (AmqpFrameReader.TryReadFrame(buffer, 256 * 1024, out AmqpFrame frame, out _, out _) != OperationStatus.Done)
        {
            throw new InvalidOperationException("The benchmark frame did not parse.");
        }

        return frame;
    }

    /// <summary>A telemetry message as the IoT Hub device SDKs send it.</summary>
    private static byte[] TelemetryMessage(int bodySize)
    {
        byte[] body = new byte[bodySize];
        new Random(1).NextBytes(body);
        var output = new ArrayBufferWriter<byte>();
        var w = new AmqpWriter(output);
        AmqpMessageWriter.BeginMessageAnnotations(ref w);
        w.WriteSymbol("iothub-interface-id"u8);
        w.WriteString("dtmi:com:example:Thermostat;1"u8);
        AmqpMessageWriter.EndMapSection(ref w);
        byte[] messageId = new byte[17];
        var id = new AmqpWriter(messageId);
        id.WriteUuid(Guid.Parse("6f1c2b4e-52a7-4c11-9d0e-3a1b2c3d4e5f"));
        AmqpMessageWriter.WriteProperties(ref w, new AmqpProperties
        {
            MessageId = messageId,
            To = "/devices/device-0001/messages/events"u8,
            ContentType = "application/json"u8,
            ContentEncoding = "utf-8"u8,
        });
        AmqpMessageWriter.BeginApplicationProperties(ref w);
        w.WriteString("iothub-creation-time-utc"u8);
        w.WriteString("2024-01-01T00:00:00.0000000Z"u8);
        w.WriteString("temperatureAlert"u8);
        w.WriteString("false"u8);
        w.WriteString("seq"u8);
        w.WriteInt(12345);
        AmqpMessageWriter.EndMapSection(ref w);
        AmqpMessageWriter.WriteData(ref w, body);
        w.Commit();
        return output.WrittenSpan.ToArray();
    }

    private sealed class Segment : ReadOnlySequenceSegment<byte>
    {
        public Segment(ReadOnlyMemory<byte> memory, long runningIndex)
        {
            Memory = memory;
            RunningIndex = runningIndex;
        }

        public Segment Append(ReadOnlyMemory<byte> memory)
        {
            var next = new Segment(memory, RunningIndex + Memory.Length);
            Next = next;
            return next;
        }
    }
}
