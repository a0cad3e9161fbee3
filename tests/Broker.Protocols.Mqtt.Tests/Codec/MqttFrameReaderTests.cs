using System.Buffers;
using Broker.Protocols.Mqtt.Codec;
using Broker.Protocols.Mqtt.Tests.Support;

namespace Broker.Protocols.Mqtt.Tests.Codec;

public sealed class MqttFrameReaderTests
{
    [Theory]
    [InlineData("")]
    [InlineData("30")]
    [InlineData("30 80")]
    [InlineData("30 80 80 80")]
    [InlineData("30 05 00 01")]
    [InlineData("30 FF FF FF 7F")]
    [InlineData("C0")]
    public void TryReadFrame_IncompleteFrame_NeedsMoreDataAndConsumesNothing(string hex)
    {
        var buffer = new ReadOnlySequence<byte>(Hex.Parse(hex));

        OperationStatus status = MqttFrameReader.TryReadFrame(buffer, int.MaxValue, out _, out SequencePosition consumed, out MqttProtocolError error);

        Assert.Equal(OperationStatus.NeedMoreData, status);
        Assert.Equal(MqttProtocolError.None, error);
        Assert.Equal(buffer.Start, consumed);
    }

    [Theory]
    [InlineData("00 00", MqttProtocolError.ReservedPacketType)]
    [InlineData("F0 00", MqttProtocolError.ReservedPacketType)]
    [InlineData("0F", MqttProtocolError.ReservedPacketType)]
    [InlineData("11 00", MqttProtocolError.InvalidFixedHeaderFlags)]
    [InlineData("18", MqttProtocolError.InvalidFixedHeaderFlags)]
    [InlineData("21 02 00 00", MqttProtocolError.InvalidFixedHeaderFlags)]
    [InlineData("36 05 00 01 61 00 01", MqttProtocolError.InvalidPublishQos)]
    [InlineData("3F", MqttProtocolError.InvalidPublishQos)]
    [InlineData("38 03 00 01 61", MqttProtocolError.InvalidFixedHeaderFlags)]
    [InlineData("39", MqttProtocolError.InvalidFixedHeaderFlags)]
    [InlineData("42 02 00 01", MqttProtocolError.InvalidFixedHeaderFlags)]
    [InlineData("50 02 00 01", null)]
    [InlineData("51 02 00 01", MqttProtocolError.InvalidFixedHeaderFlags)]
    [InlineData("60 02 00 01", MqttProtocolError.InvalidFixedHeaderFlags)]
    [InlineData("63 02 00 01", MqttProtocolError.InvalidFixedHeaderFlags)]
    [InlineData("72 02 00 01", MqttProtocolError.InvalidFixedHeaderFlags)]
    [InlineData("80 06 00 01 00 01 61 00", MqttProtocolError.InvalidFixedHeaderFlags)]
    [InlineData("83", MqttProtocolError.InvalidFixedHeaderFlags)]
    [InlineData("92 03 00 01 00", MqttProtocolError.InvalidFixedHeaderFlags)]
    [InlineData("A0 05 00 01 00 01 61", MqttProtocolError.InvalidFixedHeaderFlags)]
    [InlineData("AA", MqttProtocolError.InvalidFixedHeaderFlags)]
    [InlineData("B2 02 00 01", MqttProtocolError.InvalidFixedHeaderFlags)]
    [InlineData("C1 00", MqttProtocolError.InvalidFixedHeaderFlags)]
    [InlineData("D8 00", MqttProtocolError.InvalidFixedHeaderFlags)]
    [InlineData("E2 00", MqttProtocolError.InvalidFixedHeaderFlags)]
    public void TryReadFrame_FixedHeaderFlags_CheckedPerType(string hex, MqttProtocolError? expected)
    {
        var buffer = new ReadOnlySequence<byte>(Hex.Parse(hex));

        OperationStatus status = MqttFrameReader.TryReadFrame(buffer, int.MaxValue, out _, out _, out MqttProtocolError error);

        Assert.Equal(expected is null ? OperationStatus.Done : OperationStatus.InvalidData, status);
        Assert.Equal(expected ?? MqttProtocolError.None, error);
    }

    [Theory]
    [InlineData("30 FF FF FF FF 01")]
    [InlineData("30 80 80 80 80 00")]
    [InlineData("C0 80 80 80 80")]
    public void TryReadFrame_FifthRemainingLengthByte_IsMalformed(string hex)
    {
        var buffer = new ReadOnlySequence<byte>(Hex.Parse(hex));

        OperationStatus status = MqttFrameReader.TryReadFrame(buffer, int.MaxValue, out _, out _, out MqttProtocolError error);

        Assert.Equal(OperationStatus.InvalidData, status);
        Assert.Equal(MqttProtocolError.MalformedRemainingLength, error);
    }

    [Theory]
    [InlineData("C0 01 00")]
    [InlineData("D0 02 00 00")]
    [InlineData("E0 01")]
    [InlineData("20 03 00 00 00")]
    [InlineData("20 01 00")]
    [InlineData("40 03 00 01 00")]
    [InlineData("50 00")]
    [InlineData("62 01 01")]
    [InlineData("70 04")]
    [InlineData("B0 00")]
    public void TryReadFrame_FixedSizeTypeWithOtherLength_IsRejectedFromHeader(string hex)
    {
        var buffer = new ReadOnlySequence<byte>(Hex.Parse(hex));

        OperationStatus status = MqttFrameReader.TryReadFrame(buffer, int.MaxValue, out _, out _, out MqttProtocolError error);

        Assert.Equal(OperationStatus.InvalidData, status);
        Assert.Equal(MqttProtocolError.InvalidRemainingLength, error);
    }

    [Fact]
    public void TryReadFrame_DeclaredLengthOverLimit_FailsBeforeBodyArrives()
    {
        // 16,384 declared body bytes, none present.
        var buffer = new ReadOnlySequence<byte>(Hex.Parse("30 80 80 01"));

        OperationStatus status = MqttFrameReader.TryReadFrame(buffer, 16_387, out _, out _, out MqttProtocolError error);

        Assert.Equal(OperationStatus.InvalidData, status);
        Assert.Equal(MqttProtocolError.PacketTooLarge, error);
    }

    [Fact]
    public void TryReadFrame_PartialLengthAlreadyOverLimit_FailsBeforeLengthCompletes()
    {
        // At least 16,383 body bytes follow whatever the missing length bytes say.
        var buffer = new ReadOnlySequence<byte>(Hex.Parse("30 FF FF"));

        OperationStatus status = MqttFrameReader.TryReadFrame(buffer, 10_000, out _, out _, out MqttProtocolError error);

        Assert.Equal(OperationStatus.InvalidData, status);
        Assert.Equal(MqttProtocolError.PacketTooLarge, error);
    }

    [Fact]
    public void TryReadFrame_FrameExactlyAtLimit_IsAccepted()
    {
        byte[] bytes = Frames.Build(0x30, SamplePackets.Payload(200));

        OperationStatus status = MqttFrameReader.TryReadFrame(new ReadOnlySequence<byte>(bytes), bytes.Length, out MqttFrame frame, out _, out _);
        OperationStatus oneOver = MqttFrameReader.TryReadFrame(new ReadOnlySequence<byte>(bytes), bytes.Length - 1, out _, out _, out MqttProtocolError error);

        Assert.Equal(OperationStatus.Done, status);
        Assert.Equal(bytes.Length, frame.TotalLength);
        Assert.Equal(OperationStatus.InvalidData, oneOver);
        Assert.Equal(MqttProtocolError.PacketTooLarge, error);
    }

    [Theory]
    [InlineData("C0 80 00", 3)]
    [InlineData("C0 80 80 80 00", 5)]
    [InlineData("40 82 00 00 01", 3)]
    public void TryReadFrame_NonMinimalRemainingLength_IsAccepted(string hex, int headerLength)
    {
        var buffer = new ReadOnlySequence<byte>(Hex.Parse(hex));

        OperationStatus status = MqttFrameReader.TryReadFrame(buffer, int.MaxValue, out MqttFrame frame, out SequencePosition consumed, out _);

        Assert.Equal(OperationStatus.Done, status);
        Assert.Equal(headerLength, frame.HeaderLength);
        Assert.Equal(buffer.End, consumed);
    }

    [Theory]
    [InlineData(0, "00")]
    [InlineData(127, "7F")]
    [InlineData(128, "80 01")]
    [InlineData(16_383, "FF 7F")]
    [InlineData(16_384, "80 80 01")]
    [InlineData(2_097_151, "FF FF 7F")]
    [InlineData(2_097_152, "80 80 80 01")]
    [InlineData(268_435_455, "FF FF FF 7F")]
    public void TryReadFrame_RemainingLengthBoundaries_DecodeToDeclaredLength(int length, string encodedHex)
    {
        byte[] header = [0x30, .. Hex.Parse(encodedHex)];

        OperationStatus headerOnly = MqttFrameReader.TryReadFrame(new ReadOnlySequence<byte>(header), int.MaxValue, out _, out _, out _);

        Assert.Equal(length == 0 ? OperationStatus.Done : OperationStatus.NeedMoreData, headerOnly);
        if (length <= 2_097_152)
        {
            byte[] frameBytes = [.. header, .. new byte[length]];
            OperationStatus status = MqttFrameReader.TryReadFrame(new ReadOnlySequence<byte>(frameBytes), int.MaxValue, out MqttFrame frame, out _, out _);
            Assert.Equal(OperationStatus.Done, status);
            Assert.Equal(length, frame.RemainingLength);
            Assert.Equal(header.Length, frame.HeaderLength);
        }
    }

    [Fact]
    public void TryReadFrame_SeveralFramesInBuffer_ConsumesOneAtATime()
    {
        byte[] bytes = [.. SamplePackets.All["puback"], .. SamplePackets.All["publish-qos1-telemetry"], .. SamplePackets.All["pingreq"], 0x30];
        var buffer = new ReadOnlySequence<byte>(bytes);
        var types = new List<MqttPacketType>();

        while (MqttFrameReader.TryReadFrame(buffer, int.MaxValue, out MqttFrame frame, out SequencePosition consumed, out _) == OperationStatus.Done)
        {
            types.Add(frame.Type);
            buffer = buffer.Slice(consumed);
        }

        Assert.Equal([MqttPacketType.PubAck, MqttPacketType.Publish, MqttPacketType.PingReq], types);
        Assert.Equal(1, buffer.Length);
    }

    [Fact]
    public void TryReadFrame_HeaderSplitAcrossSegments_ReadsLength()
    {
        byte[] bytes = SamplePackets.All["publish-three-byte-length"];

        MqttFrame frame = Frames.Read(Sequences.Split(bytes, 1, 1, 2, 3, 100));

        Assert.Equal(4, frame.HeaderLength);
        Assert.Equal(bytes.Length - 4, frame.RemainingLength);
        Assert.Equal(bytes[4..], frame.Body.ToArray());
    }

    [Fact]
    public void TryReadFrame_LeadingEmptySegments_AreSkipped()
    {
        byte[] bytes = SamplePackets.All["puback"];

        MqttFrame frame = Frames.Read(Sequences.Split(bytes, 0, 0, 0, 2));

        Assert.Equal(MqttPacketType.PubAck, frame.Type);
        Assert.Equal(2, frame.RemainingLength);
    }
}
