using System.Buffers;
using System.Text;
using BenchmarkDotNet.Attributes;
using Broker.Protocols.Mqtt.Codec;
using Broker.Protocols.Mqtt.IotHub;

namespace Broker.Benchmarks.Mqtt;

/// <summary>
/// The MQTT read-loop hot path for device telemetry: find a PUBLISH frame in the receive buffer and decode it in
/// place. Budget: 0 B allocated per operation.
/// </summary>
[MemoryDiagnoser]
public class PublishParseBenchmarks
{
    private const string Topic = "devices/dev-1/messages/events/%24.ct=application%2Fjson&prop=1";

    private ReadOnlySequence<byte> _singleSegment;
    private ReadOnlySequence<byte> _splitInTopic;

    [GlobalSetup]
    public void Setup()
    {
        var writer = new ArrayBufferWriter<byte>();
        byte[] payload = new byte[256];
        Array.Fill(payload, (byte)'x');
        MqttPacketWriter.WritePublish(writer, Encoding.UTF8.GetBytes(Topic), 1, MqttQualityOfService.AtLeastOnce, false, false, payload);
        byte[] frame = writer.WrittenSpan.ToArray();
        _singleSegment = new ReadOnlySequence<byte>(frame);

        // The same frame cut inside the topic, as at a pipe block boundary: the slow path.
        var first = new Segment(frame.AsMemory(0, 20), 0);
        Segment last = first.Append(frame.AsMemory(20));
        _splitInTopic = new ReadOnlySequence<byte>(first, 0, last, last.Memory.Length);
    }

    [Benchmark(Baseline = true)]
    public long SingleSegment() => Parse(_singleSegment);

    [Benchmark]
    public long SplitInTopic() => Parse(_splitInTopic);

    /// <summary>Parse plus IoT Hub topic classification (device id check and property bag): the telemetry read path.</summary>
    [Benchmark]
    public long ParseAndClassify()
    {
        if (MqttFrameReader.TryReadFrame(_singleSegment, 256 * 1024, out MqttFrame frame, out _, out _) != OperationStatus.Done
            || !MqttPublishPacket.TryDecode(frame, out MqttPublishPacket packet, out _)
            || IotHubTopics.ClassifyPublish(packet.Topic.FirstSpan, "dev-1"u8, default, out var bag) != IotHubTopicKind.Telemetry)
        {
            throw new InvalidOperationException("The benchmark frame did not classify as telemetry.");
        }

        return bag.Length + packet.Payload.Length;
    }

    private static long Parse(in ReadOnlySequence<byte> buffer)
    {
        if (MqttFrameReader.TryReadFrame(buffer, 256 * 1024, out MqttFrame frame, out _, out _) != OperationStatus.Done
            || !MqttPublishPacket.TryDecode(frame, out MqttPublishPacket packet, out _))
        {
            throw new InvalidOperationException("The benchmark frame did not parse.");
        }

        return packet.PacketId + packet.Topic.Length + packet.Payload.Length;
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
