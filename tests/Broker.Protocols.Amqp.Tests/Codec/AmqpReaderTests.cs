using Broker.Protocols.Amqp.Codec;
using Broker.Protocols.Amqp.Tests.Support;

namespace Broker.Protocols.Amqp.Tests.Codec;

/// <summary>Malformed encodings give typed decode failures, never another exception.</summary>
public sealed class AmqpReaderTests
{
    [Theory]
    [InlineData("56 02", AmqpDecodeError.InvalidBoolean)]
    [InlineData("57", AmqpDecodeError.InvalidFormatCode)]
    [InlineData("FF", AmqpDecodeError.InvalidFormatCode)]
    [InlineData("C1 03 01 41 41", AmqpDecodeError.InvalidSize)] // odd map count
    [InlineData("C0 02 05 41", AmqpDecodeError.InvalidSize)] // count larger than size
    [InlineData("C0 00", AmqpDecodeError.InvalidSize)] // size below the count field
    [InlineData("D0 00 00 00 04 7F FF FF FF", AmqpDecodeError.InvalidSize)]
    [InlineData("F0 00 00 00 05 00 01 00 00 40", AmqpDecodeError.InvalidSize)] // 65,536 zero-width elements
    [InlineData("E0 03 05 71 00", AmqpDecodeError.InvalidSize)] // 5 ints in 1 byte
    [InlineData("E0 02 01 00", AmqpDecodeError.Truncated)] // described element constructor without its descriptor
    [InlineData("E0 02 01 57", AmqpDecodeError.InvalidFormatCode)]
    [InlineData("A1 05 61", AmqpDecodeError.Truncated)]
    [InlineData("B0 80 00 00 00", AmqpDecodeError.Truncated)]
    [InlineData("B0 FF FF FF FF", AmqpDecodeError.Truncated)]
    [InlineData("00 53", AmqpDecodeError.Truncated)]
    [InlineData("00 41 41", AmqpDecodeError.None)] // described with a boolean descriptor: well formed
    public void SkipValue_Malformed_ThrowsTypedError(string hex, AmqpDecodeError expected)
    {
        byte[] bytes = Hex.Parse(hex);
        if (expected == AmqpDecodeError.None)
        {
            var ok = new AmqpReader(bytes);
            ok.SkipValue();
            Assert.True(ok.IsAtEnd);
            return;
        }

        AmqpPerformativeTests.AssertDecodeError(expected, bytes, b => new AmqpReader(b).SkipValue());
    }

    [Fact]
    public void SkipValue_DeeplyNestedDescriptors_ThrowsNestingTooDeep()
    {
        byte[] bytes = [.. Enumerable.Repeat((byte)0x00, 10_000), 0x40, 0x40];
        AmqpPerformativeTests.AssertDecodeError(AmqpDecodeError.NestingTooDeep, bytes, b => new AmqpReader(b).SkipValue());
    }

    [Fact]
    public void TypedReads_WrongType_ThrowUnexpectedType()
    {
        byte[] text = Hex.Parse("A1 01 61");
        AmqpPerformativeTests.AssertDecodeError(AmqpDecodeError.UnexpectedType, text, b => new AmqpReader(b).ReadUInt());
        AmqpPerformativeTests.AssertDecodeError(AmqpDecodeError.UnexpectedType, text, b => new AmqpReader(b).ReadSymbol());
        AmqpPerformativeTests.AssertDecodeError(AmqpDecodeError.UnexpectedType, text, b => new AmqpReader(b).ReadList(out _));
        AmqpPerformativeTests.AssertDecodeError(AmqpDecodeError.UnexpectedType, text, b => new AmqpReader(b).ReadDescriptor(out _));
        AmqpPerformativeTests.AssertDecodeError(AmqpDecodeError.UnexpectedType, Hex.Parse("00 A1 01 61 40"), b => new AmqpReader(b).ReadDescriptor(out _));
        AmqpPerformativeTests.AssertDecodeError(AmqpDecodeError.Truncated, [], b => new AmqpReader(b).ReadBoolean());
    }

    [Fact]
    public void EveryTruncation_OfAValidMessage_ThrowsOnlyDecodeExceptions()
    {
        byte[] message = Samples.TelemetryMessage(256);
        for (int length = 1; length < message.Length; length++)
        {
            byte[] prefix = message[..length];
            try
            {
                AmqpMessageLayout.Parse(prefix);
            }
            catch (AmqpDecodeException)
            {
                // expected for most prefixes; a prefix that ends on a section boundary is a valid shorter message
            }
        }
    }

    [Fact]
    public void ListReader_FieldsBeyondTheCount_AreAbsent()
    {
        var reader = new AmqpReader(Hex.Parse("C0 03 01 52 05 41"));
        AmqpReader list = reader.ReadList(out int count);
        Assert.Equal(1, count);
        Assert.Equal(5u, list.ReadUInt());
        Assert.True(list.TryReadNull());
        Assert.Null(list.ReadUIntOrNull());
        Assert.True(reader.ReadBoolean());
    }

    [Fact]
    public void ArrayReader_ZeroWidthElements_AreCountedNotMeasured()
    {
        var reader = new AmqpReader(Hex.Parse("E0 02 03 41 40"));
        AmqpReader array = reader.ReadArray(out int count, out byte code);
        Assert.Equal((3, AmqpFormatCode.BooleanTrue), (count, code));
        int read = 0;
        while (!array.IsAtEnd)
        {
            Assert.True(array.ReadBoolean());
            read++;
        }

        Assert.Equal(3, read);
        Assert.True(reader.TryReadNull());
    }
}
