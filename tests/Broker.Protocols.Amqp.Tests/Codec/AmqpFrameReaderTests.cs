using System.Buffers;
using Broker.Protocols.Amqp.Codec;
using Broker.Protocols.Amqp.Tests.Support;

namespace Broker.Protocols.Amqp.Tests.Codec;

public sealed class AmqpFrameReaderTests
{
    [Fact]
    public void TryReadFrame_WrittenFrame_ReadsHeaderAndBody()
    {
        byte[] frame = Encoded.Frame(new AmqpBegin { NextOutgoingId = 1, IncomingWindow = 2, OutgoingWindow = 3 }, channel: 7);
        var buffer = new ReadOnlySequence<byte>([.. frame, 0xEE]);
        OperationStatus status = AmqpFrameReader.TryReadFrame(buffer, 512, out AmqpFrame read, out SequencePosition consumed, out AmqpDecodeError error);

        Assert.Equal(OperationStatus.Done, status);
        Assert.Equal(AmqpDecodeError.None, error);
        Assert.Equal((uint)frame.Length, read.Size);
        Assert.Equal((byte)2, read.DataOffset);
        Assert.Equal(AmqpFrameType.Amqp, read.Type);
        Assert.Equal((ushort)7, read.Channel);
        Assert.Equal(frame.Length, buffer.Slice(0, consumed).Length);
        Assert.Equal(3u, AmqpBegin.Decode(read.Body.ToArray()).OutgoingWindow);
    }

    [Fact]
    public void TryReadFrame_EmptyFrame_IsAHeartbeat()
    {
        var output = new ArrayBufferWriter<byte>();
        AmqpFrameWriter.WriteEmptyFrame(output);
        Assert.Equal(Hex.Parse("00 00 00 08 02 00 00 00"), output.WrittenSpan.ToArray());
        Assert.Equal(OperationStatus.Done, AmqpFrameReader.TryReadFrame(new ReadOnlySequence<byte>(output.WrittenMemory), 512, out AmqpFrame frame, out _, out _));
        Assert.True(frame.IsEmpty);
    }

    [Fact]
    public void TryReadFrame_ExtendedHeader_IsSkipped()
    {
        byte[] bytes = Hex.Parse("00 00 00 10 03 00 00 01 AA BB CC DD 00 53 18 45");
        Assert.Equal(OperationStatus.Done, AmqpFrameReader.TryReadFrame(new ReadOnlySequence<byte>(bytes), 512, out AmqpFrame frame, out _, out _));
        Assert.Equal(Hex.Parse("00 53 18 45"), frame.Body.ToArray());
        Assert.Equal((ushort)1, frame.Channel);
    }

    [Theory]
    [InlineData("00 00 00 07 02 00 00 00", AmqpDecodeError.FrameSizeTooSmall)]
    [InlineData("00 00 02 01 02 00 00 00", AmqpDecodeError.FrameTooLarge)]
    [InlineData("FF FF FF FF 02 00 00 00", AmqpDecodeError.FrameTooLarge)]
    [InlineData("00 00 00 08 01 00 00 00", AmqpDecodeError.InvalidDataOffset)]
    [InlineData("00 00 00 0C 04 00 00 00", AmqpDecodeError.InvalidDataOffset)]
    [InlineData("00 00 00 08 02 02 00 00", AmqpDecodeError.InvalidFrameType)]
    public void TryReadFrame_InvalidHeader_FailsFromTheHeaderAlone(string header, AmqpDecodeError expected)
    {
        // Only the 8 header bytes have arrived: an oversized frame must fail before its body is buffered.
        OperationStatus status = AmqpFrameReader.TryReadFrame(new ReadOnlySequence<byte>(Hex.Parse(header)), 512, out _, out SequencePosition consumed, out AmqpDecodeError error);
        Assert.Equal(OperationStatus.InvalidData, status);
        Assert.Equal(expected, error);
        Assert.Equal(0, consumed.GetInteger());
    }

    [Fact]
    public void TryReadFrame_PartialHeaderOrBody_NeedsMoreData()
    {
        byte[] frame = Encoded.Frame(new AmqpClose());
        for (int length = 0; length < frame.Length; length++)
        {
            Assert.Equal(OperationStatus.NeedMoreData, AmqpFrameReader.TryReadFrame(new ReadOnlySequence<byte>(frame, 0, length), 512, out _, out _, out AmqpDecodeError error));
            Assert.Equal(AmqpDecodeError.None, error);
        }
    }

    [Fact]
    public void TryReadFrame_SplitAtEveryPosition_GivesTheSameFrame()
    {
        byte[] payload = Enumerable.Range(0, 64).Select(i => (byte)i).ToArray();
        byte[] frame = Encoded.Frame(new AmqpTransfer { Handle = 1, DeliveryId = 2, DeliveryTag = [1, 2, 3, 4] }, channel: 3, payload: payload);
        Span<byte> scratch = stackalloc byte[AmqpTransfer.ScratchSize];
        for (int cut = 0; cut <= frame.Length; cut++)
        {
            ReadOnlySequence<byte> split = Sequences.Split(frame, cut);
            Assert.Equal(OperationStatus.Done, AmqpFrameReader.TryReadFrame(split, 512, out AmqpFrame read, out SequencePosition consumed, out _));
            Assert.Equal(split.End, consumed);
            Assert.Equal((ushort)3, read.Channel);

            AmqpTransfer transfer = AmqpTransfer.Decode(read.Body, scratch, out ReadOnlySequence<byte> body);
            Assert.Equal(2u, transfer.DeliveryId);
            Assert.Equal([1, 2, 3, 4], transfer.DeliveryTag.ToArray());
            Assert.Equal(payload, body.ToArray());
        }

        ReadOnlySequence<byte> bytewise = Sequences.OneBytePerSegment(frame);
        Assert.Equal(OperationStatus.Done, AmqpFrameReader.TryReadFrame(bytewise, 512, out AmqpFrame single, out _, out _));
        AmqpTransfer again = AmqpTransfer.Decode(single.Body, scratch, out ReadOnlySequence<byte> again2);
        Assert.Equal(1u, again.Handle);
        Assert.Equal(payload, again2.ToArray());
    }

    [Fact]
    public void ContiguousBuffer_MultiSegmentBody_IsCopiedOnlyThen()
    {
        byte[] frame = Encoded.Frame(new AmqpOpen { ContainerId = "container"u8 });
        AmqpFrameReader.TryReadFrame(new ReadOnlySequence<byte>(frame), 512, out AmqpFrame whole, out _, out _);
        using (var body = new AmqpContiguousBuffer(whole.Body))
        {
            Assert.False(body.IsCopy);
            Assert.Equal("container"u8.ToArray(), AmqpOpen.Decode(body.Span).ContainerId.ToArray());
        }

        AmqpFrameReader.TryReadFrame(Sequences.Split(frame, 12), 512, out AmqpFrame split, out _, out _);
        using var copied = new AmqpContiguousBuffer(split.Body);
        Assert.True(copied.IsCopy);
        Assert.Equal("container"u8.ToArray(), AmqpOpen.Decode(copied.Span).ContainerId.ToArray());
    }

    [Fact]
    public void WriteFrame_LargePayloadAndSaslType_WritesOneFrame()
    {
        byte[] payload = new byte[10_000];
        Random.Shared.NextBytes(payload);
        var output = new ArrayBufferWriter<byte>();
        int size = AmqpFrameWriter.WriteFrame(output, AmqpFrameType.Amqp, 9, new AmqpTransfer { Handle = 0, DeliveryId = 0, DeliveryTag = [0] }, payload);
        Assert.Equal(output.WrittenCount, size);
        Assert.Equal(OperationStatus.Done, AmqpFrameReader.TryReadFrame(new ReadOnlySequence<byte>(output.WrittenMemory), 1 << 20, out AmqpFrame frame, out _, out _));
        AmqpTransfer.Decode(frame.Body.ToArray(), out int offset);
        Assert.Equal(payload, frame.Body.ToArray()[offset..]);

        var sequenced = new ArrayBufferWriter<byte>();
        AmqpFrameWriter.WriteFrame(sequenced, AmqpFrameType.Amqp, 9, new AmqpTransfer { Handle = 0, DeliveryId = 0, DeliveryTag = [0] }, Sequences.Split(payload, 100, 5000));
        Assert.Equal(output.WrittenSpan.ToArray(), sequenced.WrittenSpan.ToArray());

        var sasl = new ArrayBufferWriter<byte>();
        AmqpFrameWriter.WriteFrame(sasl, AmqpFrameType.Sasl, 5, new AmqpSaslOutcome { Code = AmqpSaslCode.Ok });
        Assert.Equal(Hex.Parse("00 00 00 10 02 01 00 00 00 53 44 C0 03 01 50 00"), sasl.WrittenSpan.ToArray());
    }

    [Fact]
    public void WriteFrame_PerformativeLargerThanTheFirstBlock_StaysContiguous()
    {
        byte[] properties = Encoded.With((ref AmqpWriter w) =>
        {
            w.BeginMap();
            for (int i = 0; i < 100; i++)
            {
                w.WriteSymbol(System.Text.Encoding.ASCII.GetBytes($"key-{i}"));
                w.WriteString(new string('v', 50));
            }

            w.EndMap();
        });
        var output = new SmallBlockWriter(64);
        AmqpFrameWriter.WriteFrame(output, AmqpFrameType.Amqp, 0, new AmqpOpen { ContainerId = "c"u8, Properties = properties }, sizeHint: 16);
        byte[] written = output.ToArray();
        Assert.Equal(OperationStatus.Done, AmqpFrameReader.TryReadFrame(new ReadOnlySequence<byte>(written), 1 << 20, out AmqpFrame frame, out SequencePosition end, out _));
        Assert.Equal(written.Length, (int)new ReadOnlySequence<byte>(written).Slice(0, end).Length);
        Assert.Equal(properties, AmqpOpen.Decode(frame.Body.ToArray()).Properties.ToArray());
    }

    [Theory]
    [InlineData("41 4D 51 50 00 01 00 00", AmqpProtocolId.Amqp)]
    [InlineData("41 4D 51 50 03 01 00 00", AmqpProtocolId.Sasl)]
    [InlineData("41 4D 51 50 02 01 00 00", AmqpProtocolId.Tls)]
    public void ProtocolHeader_Supported_IsRead(string hex, AmqpProtocolId expected)
    {
        byte[] bytes = Hex.Parse(hex);
        Assert.Equal(OperationStatus.Done, AmqpProtocolHeader.TryRead(Sequences.Split(bytes, 3), out AmqpProtocolId id, out SequencePosition consumed));
        Assert.Equal(expected, id);
        var output = new ArrayBufferWriter<byte>();
        AmqpProtocolHeader.Write(output, id);
        Assert.Equal(bytes, output.WrittenSpan.ToArray());
        Assert.Equal(AmqpProtocolHeader.Sasl.ToArray(), Hex.Parse("41 4D 51 50 03 01 00 00"));
        _ = consumed;
    }

    [Theory]
    [InlineData("47 45 54 20")] // "GET " - fails on the first byte
    [InlineData("41 4D 51 50 01")]
    [InlineData("41 4D 51 50 00 00 09 10")] // AMQP 0-9-1
    [InlineData("41 4D 51 50 00 01 00 01")]
    public void ProtocolHeader_Unsupported_FailsAsSoonAsAWrongByteArrives(string hex)
        => Assert.Equal(OperationStatus.InvalidData, AmqpProtocolHeader.TryRead(new ReadOnlySequence<byte>(Hex.Parse(hex)), out _, out _));

    [Fact]
    public void ProtocolHeader_Partial_NeedsMoreData()
        => Assert.Equal(OperationStatus.NeedMoreData, AmqpProtocolHeader.TryRead(new ReadOnlySequence<byte>(Hex.Parse("41 4D 51 50 00")), out _, out _));

    /// <summary>An IBufferWriter that hands out small blocks, like a pipe's segments.</summary>
    private sealed class SmallBlockWriter(int blockSize) : IBufferWriter<byte>
    {
        private readonly List<byte[]> _blocks = [];
        private byte[] _current = [];

        public void Advance(int count) => _blocks.Add(_current[..count]);

        public Memory<byte> GetMemory(int sizeHint = 0) => _current = new byte[Math.Max(sizeHint, blockSize)];

        public Span<byte> GetSpan(int sizeHint = 0) => GetMemory(sizeHint).Span;

        public byte[] ToArray() => _blocks.SelectMany(b => b).ToArray();
    }
}
