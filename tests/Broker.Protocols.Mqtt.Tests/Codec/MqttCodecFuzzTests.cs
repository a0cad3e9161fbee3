using System.Buffers;
using System.Diagnostics;
using Broker.Protocols.Mqtt.Codec;
using Broker.Protocols.Mqtt.Tests.Support;
using Xunit.Abstractions;

namespace Broker.Protocols.Mqtt.Tests.Codec;

/// <summary>
/// Feeds random and mutated frames through <see cref="MqttFrameReader"/> and every decoder: nothing may throw,
/// single- and multi-segment buffers must give the same verdicts, and every frame a decoder accepts must re-encode
/// to the same bytes (up to a non-minimal remaining length, which the writer never produces).
/// </summary>
public sealed class MqttCodecFuzzTests
{
    private const int Seed = 0x4D515454;
    private const int InputCount = 200_000;
    private static readonly TimeSpan s_safetyBound = TimeSpan.FromSeconds(50);
    private static readonly byte[] s_interestingBytes = [0x00, 0x01, 0x02, 0x03, 0x7F, 0x80, 0xFF, 0xC0, 0xED, 0xF4, (byte)'#', (byte)'+', (byte)'/'];

    private readonly ITestOutputHelper _output;

    public MqttCodecFuzzTests(ITestOutputHelper output) => _output = output;

    [Fact]
    public async Task TryReadFrameAndDecoders_RandomAndMutatedFrames_NeverThrowAndReencodeValidFrames()
    {
        var stopwatch = Stopwatch.StartNew();

        // The bound guards against a hang in the codec; it is not how the test normally ends.
        FuzzStats stats = await Task.Run(Run).WaitAsync(s_safetyBound);

        stopwatch.Stop();
        _output.WriteLine($"{stats.Inputs} inputs, {stats.Frames} frames read, {stats.Valid} decoded and re-encoded, {stats.Errors.Count} distinct errors, {stopwatch.ElapsedMilliseconds} ms");
        _output.WriteLine(string.Join(", ", stats.Errors.OrderBy(e => e)));
        Assert.Equal(InputCount, stats.Inputs);
        Assert.True(stats.Frames >= 100_000, $"only {stats.Frames} frames reached the decoders");
        Assert.True(stats.Valid >= InputCount / 10, $"only {stats.Valid} valid frames");
        Assert.True(stats.Errors.Count >= 20, $"only {stats.Errors.Count} distinct errors were provoked");
    }

    private static FuzzStats Run()
    {
        var random = new Random(Seed);
        byte[][] corpus = SamplePackets.All.OrderBy(pair => pair.Key, StringComparer.Ordinal).Select(pair => pair.Value).ToArray();
        var stats = new FuzzStats();
        for (int i = 0; i < InputCount; i++)
        {
            byte[] input = Mutate(random, corpus);
            int maxPacketSize = random.Next(4) == 0 ? 256 : 1 << 20;
            ReadOnlySequence<byte> split = RandomSplit(random, input);
            try
            {
                List<(OperationStatus, MqttProtocolError, int, MqttProtocolError)> whole = Process(new ReadOnlySequence<byte>(input), maxPacketSize, stats);
                List<(OperationStatus, MqttProtocolError, int, MqttProtocolError)> segmented = Process(split, maxPacketSize, stats: null);
                Assert.Equal(whole, segmented);
            }
            catch (Exception exception)
            {
                throw new InvalidOperationException($"Fuzz input #{i} (seed {Seed}, max {maxPacketSize}): {Hex.Format(input)}", exception);
            }

            stats.Inputs++;
        }

        return stats;
    }

    private static List<(OperationStatus, MqttProtocolError, int, MqttProtocolError)> Process(ReadOnlySequence<byte> buffer, int maxPacketSize, FuzzStats? stats)
    {
        var transcript = new List<(OperationStatus, MqttProtocolError, int, MqttProtocolError)>();
        while (true)
        {
            OperationStatus status = MqttFrameReader.TryReadFrame(buffer, maxPacketSize, out MqttFrame frame, out SequencePosition consumed, out MqttProtocolError error);
            if (status != OperationStatus.Done)
            {
                Assert.Equal(status == OperationStatus.InvalidData, error != MqttProtocolError.None);
                Assert.Equal(buffer.Start, consumed);
                stats?.Errors.Add(error);
                transcript.Add((status, error, 0, MqttProtocolError.None));
                return transcript;
            }

            Assert.True(frame.TotalLength is >= 2 and <= 1 << 20);
            Assert.Equal(buffer.Slice(0, 1).ToArray()[0], ((int)frame.Type << 4) | frame.Flags);
            Assert.True(frame.TotalLength <= maxPacketSize);
            Assert.Equal(buffer.GetPosition(frame.TotalLength), consumed);
            PacketCodec.DecodeWithEveryDecoder(frame);

            var output = new ArrayBufferWriter<byte>();
            MqttProtocolError decodeError = PacketCodec.Reencode(frame, output);
            if (decodeError == MqttProtocolError.None)
            {
                byte[] canonical = Frames.Build(((int)frame.Type << 4) | frame.Flags, frame.Body.ToArray());
                Assert.Equal(canonical, output.WrittenSpan.ToArray());
                if (stats is not null)
                {
                    stats.Valid++;
                }
            }

            if (stats is not null)
            {
                stats.Frames++;
                stats.Errors.Add(decodeError);
            }

            transcript.Add((status, error, frame.TotalLength, decodeError));
            buffer = buffer.Slice(consumed);
        }
    }

    private static byte[] Mutate(Random random, byte[][] corpus)
    {
        byte[] seed = corpus[random.Next(corpus.Length)];
        switch (random.Next(10))
        {
            case 0:
                return seed.ToArray();
            case 1:
            {
                byte[] copy = seed.ToArray();
                for (int flips = 1 + random.Next(3); flips > 0; flips--)
                {
                    copy[random.Next(copy.Length)] ^= (byte)(1 << random.Next(8));
                }

                return copy;
            }

            case 2:
                return seed[..random.Next(seed.Length)];
            case 3:
            {
                // Corrupt the remaining-length field, often with continuation bits.
                byte[] copy = seed.ToArray();
                for (int index = 1; index < Math.Min(5, copy.Length); index++)
                {
                    if (random.Next(2) == 0)
                    {
                        copy[index] = (byte)(random.Next(3) == 0 ? 0x80 | random.Next(128) : random.Next(256));
                    }
                }

                return copy;
            }

            case 4:
            {
                // Random bytes, half of them behind a plausible fixed header with a matching length.
                byte[] body = new byte[random.Next(48)];
                random.NextBytes(body);
                if (random.Next(2) == 0)
                {
                    return [(byte)random.Next(256), .. body];
                }

                int type = 1 + random.Next(14);
                int flags = type switch { 3 => random.Next(6), 6 or 8 or 10 => 2, _ => 0 };
                return Frames.Build((type << 4) | flags, body);
            }

            case 5:
            {
                byte[] copy = seed.ToArray();
                copy[random.Next(copy.Length)] = s_interestingBytes[random.Next(s_interestingBytes.Length)];
                return copy;
            }

            case 6:
            {
                // Insert or delete a body byte, then fix the remaining length so the decoders see it.
                (byte first, List<byte> body) = Open(seed);
                if (body.Count > 0 && random.Next(2) == 0)
                {
                    body.RemoveAt(random.Next(body.Count));
                }
                else
                {
                    body.Insert(random.Next(body.Count + 1), s_interestingBytes[random.Next(s_interestingBytes.Length)]);
                }

                return Frames.Build(first, body.ToArray());
            }

            case 7:
                return [.. seed, .. Mutate(random, corpus)];
            case 8:
            {
                // Overwrite two body bytes, as a string length would be, keeping the frame consistent.
                (byte first, List<byte> body) = Open(seed);
                if (body.Count >= 2)
                {
                    int at = random.Next(body.Count - 1);
                    int value = random.Next(3) switch
                    {
                        0 => random.Next(65536),
                        1 => Math.Max(0, ((body[at] << 8) | body[at + 1]) + random.Next(-3, 4)),
                        _ => random.Next(8),
                    };
                    body[at] = (byte)(value >> 8);
                    body[at + 1] = (byte)value;
                }

                return Frames.Build(first, body.ToArray());
            }

            default:
            {
                // Flip bits in the body only, keeping the frame consistent.
                (byte first, List<byte> body) = Open(seed);
                for (int flips = 1 + random.Next(2); flips > 0 && body.Count > 0; flips--)
                {
                    body[random.Next(body.Count)] ^= (byte)(1 << random.Next(8));
                }

                return Frames.Build(first, body.ToArray());
            }
        }
    }

    private static (byte First, List<byte> Body) Open(byte[] validFrame)
    {
        MqttFrame frame = Frames.Read(validFrame);
        return (validFrame[0], [.. frame.Body.ToArray()]);
    }

    private static ReadOnlySequence<byte> RandomSplit(Random random, byte[] input)
    {
        int[] cuts = new int[random.Next(4)];
        for (int i = 0; i < cuts.Length; i++)
        {
            cuts[i] = random.Next(input.Length + 1);
        }

        Array.Sort(cuts);
        return Sequences.Split(input, cuts);
    }

    private sealed class FuzzStats
    {
        public int Inputs { get; set; }

        public int Frames { get; set; }

        public int Valid { get; set; }

        public HashSet<MqttProtocolError> Errors { get; } = [];
    }
}
