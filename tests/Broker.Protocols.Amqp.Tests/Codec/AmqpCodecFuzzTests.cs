using System.Buffers;
using System.Diagnostics;
using Broker.Protocols.Amqp.Codec;
using Broker.Protocols.Amqp.Tests.Support;
using Xunit.Abstractions;

namespace Broker.Protocols.Amqp.Tests.Codec;

/// <summary>
/// Feeds mutated valid frames and random bytes through the frame reader and every decoder (performatives, SASL
/// frames, transfers and their message sections): the only failure allowed is a typed one (InvalidData from the
/// frame reader, <see cref="AmqpDecodeException"/> from the decoders), and single- and multi-segment buffers must give
/// the same frames. The run is bounded by its input count; the time bound only guards against a hang.
/// </summary>
public sealed class AmqpCodecFuzzTests(ITestOutputHelper output)
{
    private const int Seed = 0x414D5150;
    private const int InputCount = 150_000;
    private static readonly TimeSpan s_safetyBound = TimeSpan.FromSeconds(100);
    private static readonly byte[] s_interestingBytes = [0x00, 0x01, 0x02, 0x40, 0x41, 0x45, 0x53, 0x56, 0x7F, 0x80, 0xA0, 0xA1, 0xA3, 0xB0, 0xC0, 0xC1, 0xD0, 0xE0, 0xF0, 0xFF];

    [Fact]
    public async Task FrameReaderAndDecoders_MutatedAndRandomFrames_FailOnlyWithTypedErrors()
    {
        var stopwatch = Stopwatch.StartNew();
        FuzzStats stats = await Task.Run(Run).WaitAsync(s_safetyBound);
        stopwatch.Stop();

        output.WriteLine($"{stats.Inputs} inputs, {stats.Frames} frames decoded ({stats.Valid} valid), {stats.Errors.Count} distinct errors, {stopwatch.ElapsedMilliseconds} ms");
        output.WriteLine(string.Join(", ", stats.Errors.OrderBy(e => e)));
        Assert.Equal(InputCount, stats.Inputs);
        Assert.True(stats.Frames >= 100_000, $"only {stats.Frames} frames reached the decoders");
        Assert.True(stats.Valid >= stats.Frames / 10, $"only {stats.Valid} valid frames");
        Assert.True(stats.Errors.Count >= 10, $"only {stats.Errors.Count} distinct errors were provoked");
    }

    private static FuzzStats Run()
    {
        var random = new Random(Seed);
        IReadOnlyList<byte[]> corpus = Samples.AllFrames();
        var stats = new FuzzStats();
        for (int i = 0; i < InputCount; i++)
        {
            byte[] input = NextInput(random, corpus);
            uint maxFrameSize = random.Next(4) == 0 ? AmqpFrameReader.MinMaxFrameSize : 1u << 20;
            int cut = input.Length == 0 ? 0 : random.Next(input.Length + 1);
            try
            {
                List<(OperationStatus, AmqpDecodeError, uint)> whole = Process(new ReadOnlySequence<byte>(input), maxFrameSize, stats);
                List<(OperationStatus, AmqpDecodeError, uint)> split = Process(Sequences.Split(input, cut), maxFrameSize, stats: null);
                Assert.Equal(whole, split);
            }
            catch (Exception exception)
            {
                throw new InvalidOperationException($"Fuzz input #{i} (seed {Seed}, max {maxFrameSize}, cut {cut}): {Hex.Format(input)}", exception);
            }

            stats.Inputs++;
        }

        return stats;
    }

    private static List<(OperationStatus, AmqpDecodeError, uint)> Process(ReadOnlySequence<byte> buffer, uint maxFrameSize, FuzzStats? stats)
    {
        var transcript = new List<(OperationStatus, AmqpDecodeError, uint)>();
        while (true)
        {
            OperationStatus status = AmqpFrameReader.TryReadFrame(buffer, maxFrameSize, out AmqpFrame frame, out SequencePosition consumed, out AmqpDecodeError error);
            if (status != OperationStatus.Done)
            {
                Assert.Equal(status == OperationStatus.InvalidData, error != AmqpDecodeError.None);
                Assert.Equal(buffer.Start, consumed);
                stats?.Errors.Add(error);
                transcript.Add((status, error, 0));
                return transcript;
            }

            Assert.True(frame.Size >= AmqpFrameReader.HeaderSize && frame.Size <= maxFrameSize);
            AmqpDecodeError decodeError = AmqpDecodeError.None;
            try
            {
                Samples.DecodeFrame(frame);
            }
            catch (AmqpDecodeException exception)
            {
                decodeError = exception.Error;
                Assert.False(exception.Condition.IsEmpty);
            }

            if (stats is not null)
            {
                stats.Frames++;
                stats.Errors.Add(decodeError);
                if (decodeError == AmqpDecodeError.None)
                {
                    stats.Valid++;
                }
            }

            transcript.Add((status, AmqpDecodeError.None, frame.Size));
            buffer = buffer.Slice(consumed);
        }
    }

    private static byte[] NextInput(Random random, IReadOnlyList<byte[]> corpus)
    {
        if (random.Next(20) == 0)
        {
            byte[] noise = new byte[random.Next(64)];
            random.NextBytes(noise);
            return noise;
        }

        // One to three frames back to back, one of them mutated (or none, now and then).
        int count = 1 + random.Next(3);
        int mutated = random.Next(count + 1);
        var input = new List<byte>();
        for (int i = 0; i < count; i++)
        {
            byte[] frame = corpus[random.Next(corpus.Count)];
            input.AddRange(i == mutated ? Mutate(random, frame, corpus) : frame);
        }

        return [.. input];
    }

    private static byte[] Mutate(Random random, byte[] seed, IReadOnlyList<byte[]> corpus)
    {
        byte[] bytes = seed.ToArray();
        int edits = 1 + random.Next(3);
        for (int e = 0; e < edits && bytes.Length > 0; e++)
        {
            // Mostly edit the body and leave the frame size alone, so that the decoders see the mutation.
            int position = bytes.Length > 8 && random.Next(4) != 0 ? 8 + random.Next(bytes.Length - 8) : random.Next(bytes.Length);
            switch (random.Next(6))
            {
                case 0:
                    bytes[position] ^= (byte)(1 << random.Next(8));
                    break;
                case 1:
                    bytes[position] = s_interestingBytes[random.Next(s_interestingBytes.Length)];
                    break;
                case 2:
                    bytes[position] = (byte)random.Next(256);
                    break;
                case 3:
                    // Truncate the body and fix the frame size, so the frame itself is still whole.
                    int length = Math.Max(8, position);
                    bytes = bytes[..length];
                    System.Buffers.Binary.BinaryPrimitives.WriteUInt32BigEndian(bytes, (uint)length);
                    break;
                case 4:
                    // Splice in bytes from another frame's body and fix the frame size.
                    byte[] other = corpus[random.Next(corpus.Count)];
                    int take = Math.Min(other.Length - 8, random.Next(1, 16));
                    if (take > 0 && bytes.Length > 8)
                    {
                        bytes = [.. bytes[..position], .. other.AsSpan(8, take), .. bytes[position..]];
                        System.Buffers.Binary.BinaryPrimitives.WriteUInt32BigEndian(bytes, (uint)bytes.Length);
                    }

                    break;
                default:
                    bytes[position] = (byte)(bytes[position] + random.Next(-2, 3));
                    break;
            }
        }

        return bytes;
    }

    private sealed class FuzzStats
    {
        public int Inputs { get; set; }

        public int Frames { get; set; }

        public int Valid { get; set; }

        public HashSet<AmqpDecodeError> Errors { get; } = [];
    }
}
