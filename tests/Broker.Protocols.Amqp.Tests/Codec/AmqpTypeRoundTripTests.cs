using System.Text;
using Amqp.Types;
using AmqpList = global::Amqp.Types.List;
using Broker.Protocols.Amqp.Codec;
using Broker.Protocols.Amqp.Tests.Support;

namespace Broker.Protocols.Amqp.Tests.Codec;

/// <summary>
/// Every primitive and compound type: our writer's bytes (smallest encoding), our reader on them, AMQPNetLite's
/// decoder on our bytes and our reader on AMQPNetLite's bytes.
/// </summary>
public sealed class AmqpTypeRoundTripTests
{
    public static TheoryData<string, string> Primitives => new()
    {
        { "null", "40" },
        { "true", "41" },
        { "false", "42" },
        { "ubyte 7", "50 07" },
        { "ushort 300", "60 01 2C" },
        { "uint 0", "43" },
        { "uint 5", "52 05" },
        { "uint 70000", "70 00 01 11 70" },
        { "ulong 0", "44" },
        { "ulong 5", "53 05" },
        { "ulong 2^40", "80 00 00 01 00 00 00 00 00" },
        { "byte -5", "51 FB" },
        { "short -300", "61 FE D4" },
        { "int -5", "54 FB" },
        { "int 70000", "71 00 01 11 70" },
        { "long -5", "55 FB" },
        { "long 2^40", "81 00 00 01 00 00 00 00 00" },
        { "float 1.5", "72 3F C0 00 00" },
        { "double 2.25", "82 40 02 00 00 00 00 00 00" },
        { "char é", "73 00 00 00 E9" },
        { "timestamp", "83 00 00 01 8B CF E5 68 00" },
        { "uuid", "98 00 11 22 33 44 55 66 77 88 99 AA BB CC DD EE FF" },
        { "binary", "A0 03 01 02 03" },
        { "string", "A1 03 61 C3 A9" },
        { "symbol", "A3 03 61 62 63" },
    };

    [Theory]
    [MemberData(nameof(Primitives))]
    public void WriterAndReader_Primitive_SmallestEncodingAndSameValueAsReference(string name, string hex)
    {
        byte[] expected = Hex.Parse(hex);
        object? value = ReferenceValue(name);

        byte[] ours = Encoded.With((ref AmqpWriter w) => WriteOurs(ref w, name));
        Assert.Equal(expected, ours);
        Assert.Equal(expected, Reference.Encode(value));

        var reader = new AmqpReader(ours);
        Assert.Equal(Normalise(value), ReadOurs(ref reader, name));
        Assert.Equal(ours.Length, reader.Position);
        Assert.Equal(Normalise(value), Normalise(Reference.Decode(ours)));
    }

    [Fact]
    public void WriterAndReader_LongVariableWidthValues_Use32BitForms()
    {
        byte[] blob = Enumerable.Range(0, 300).Select(i => (byte)i).ToArray();
        string text = new('é', 200); // 400 UTF-8 bytes
        string symbol = new('s', 256);
        byte[] ours = Encoded.With((ref AmqpWriter w) =>
        {
            w.WriteBinary(blob);
            w.WriteString(text);
            w.WriteSymbol(Encoding.ASCII.GetBytes(symbol));
        });
        Assert.Equal(AmqpFormatCode.Binary32, ours[0]);

        var reader = new AmqpReader(ours);
        Assert.Equal(blob, reader.ReadBinary().ToArray());
        Assert.Equal(text, Encoding.UTF8.GetString(reader.ReadString()));
        Assert.Equal(symbol, Encoding.ASCII.GetString(reader.ReadSymbol()));
        Assert.True(reader.Position == ours.Length);

        byte[] theirs = [.. Reference.Encode(blob), .. Reference.Encode(text), .. Reference.Encode(new Symbol(symbol))];
        Assert.Equal(ours, theirs);
    }

    [Fact]
    public void WriterAndReader_Decimals_RoundTripRawBytes()
    {
        byte[] d32 = [1, 2, 3, 4];
        byte[] d64 = [1, 2, 3, 4, 5, 6, 7, 8];
        byte[] d128 = Enumerable.Range(1, 16).Select(i => (byte)i).ToArray();
        byte[] ours = Encoded.With((ref AmqpWriter w) =>
        {
            w.WriteDecimal(d32);
            w.WriteDecimal(d64);
            w.WriteDecimal(d128);
        });
        Assert.Equal([0x74, 1, 2, 3, 4], ours[..5]);
        var reader = new AmqpReader(ours);
        Assert.Equal(d32, reader.ReadDecimal().ToArray());
        Assert.Equal(d64, reader.ReadDecimal().ToArray());
        Assert.Equal(d128, reader.ReadDecimal().ToArray());
    }

    [Fact]
    public void Reader_ExplicitWideAndBooleanForms_AreAccepted()
    {
        var reader = new AmqpReader(Hex.Parse("70 00 00 00 05 80 00 00 00 00 00 00 00 06 56 01 56 00 71 FF FF FF FF 81 00 00 00 00 00 00 00 07 B1 00 00 00 01 61 C0 01 00 D0 00 00 00 04 00 00 00 00"));
        Assert.Equal(5u, reader.ReadUInt());
        Assert.Equal(6ul, reader.ReadULong());
        Assert.True(reader.ReadBoolean());
        Assert.False(reader.ReadBoolean());
        Assert.Equal(-1, reader.ReadInt());
        Assert.Equal(7L, reader.ReadLong());
        Assert.Equal("a"u8.ToArray(), reader.ReadString().ToArray());
        reader.ReadList(out int count8);
        reader.ReadList(out int count32);
        Assert.Equal((0, 0), (count8, count32));
        Assert.True(reader.IsAtEnd);
    }

    [Fact]
    public void WriterAndReader_List_CompactsToList8AndMatchesReference()
    {
        byte[] ours = Encoded.With((ref AmqpWriter w) =>
        {
            w.BeginList();
            w.WriteUInt(1);
            w.WriteString("two");
            w.WriteNull();
            w.BeginList();
            w.EndList();
            w.EndList();
        });
        Assert.Equal(Hex.Parse("C0 0A 04 52 01 A1 03 74 77 6F 40 45"), ours);

        var decoded = Assert.IsType<AmqpList>(Reference.Decode(ours));
        Assert.Equal(4, decoded.Count);
        Assert.Equal(1u, decoded[0]);
        Assert.Equal("two", decoded[1]);
        Assert.Null(decoded[2]);

        byte[] theirs = Reference.Encode(new AmqpList { 1u, "two", null, new AmqpList() });
        var reader = new AmqpReader(theirs);
        AmqpReader list = reader.ReadList(out int count);
        Assert.Equal(4, count);
        Assert.Equal(1u, list.ReadUInt());
        Assert.Equal("two"u8.ToArray(), list.ReadString().ToArray());
        Assert.True(list.TryReadNull());
        list.ReadList(out int inner);
        Assert.Equal(0, inner);
        Assert.True(list.IsAtEnd);
        Assert.True(reader.IsAtEnd);
    }

    [Fact]
    public void WriterAndReader_LargeListAndMap_Use32BitFormsAndMatchReference()
    {
        byte[] ours = Encoded.With((ref AmqpWriter w) =>
        {
            w.BeginList();
            for (int i = 0; i < 300; i++)
            {
                w.WriteUInt((uint)i);
            }

            w.EndList();
            w.BeginMap();
            for (int i = 0; i < 200; i++)
            {
                w.WriteSymbol(Encoding.ASCII.GetBytes($"k{i}"));
                w.WriteLong(i * 1_000_000L);
            }

            w.EndMap();
        });
        Assert.Equal(AmqpFormatCode.List32, ours[0]);

        var reader = new AmqpReader(ours);
        AmqpReader list = reader.ReadList(out int count);
        Assert.Equal(300, count);
        for (int i = 0; i < 300; i++)
        {
            Assert.Equal((uint)i, list.ReadUInt());
        }

        int mapStart = reader.Position;
        AmqpReader map = reader.ReadMap(out int mapCount);
        Assert.Equal(AmqpFormatCode.Map32, ours[mapStart]);
        Assert.Equal(400, mapCount);
        Assert.Equal("k0"u8.ToArray(), map.ReadSymbol().ToArray());
        Assert.Equal(0L, map.ReadLong());

        var theirList = Assert.IsType<AmqpList>(Reference.Decode(ours[..mapStart]));
        Assert.Equal(Enumerable.Range(0, 300).Select(i => (object)(uint)i), theirList.Cast<object>());
        var theirMap = Assert.IsType<Map>(Reference.Decode(ours[mapStart..]));
        Assert.Equal(199_000_000L, theirMap[new Symbol("k199")]);
    }

    [Fact]
    public void MapReader_ReferenceMap_FindsKeysOfEitherTextType()
    {
        var map = new Map { [new Symbol("sym")] = 42, ["str"] = "value", [7ul] = true };
        byte[] encoded = Reference.Encode(map);

        Assert.True(AmqpMap.TryGetValue(encoded, "sym"u8, out ReadOnlySpan<byte> symValue));
        Assert.Equal(42, new AmqpReader(symValue).ReadInt());
        Assert.True(AmqpMap.TryGetValue(encoded, "str"u8, out ReadOnlySpan<byte> strValue));
        Assert.Equal("value"u8.ToArray(), AmqpMap.GetText(strValue).ToArray());
        Assert.False(AmqpMap.TryGetValue(encoded, "missing"u8, out _));
        int entries = 0;
        foreach (AmqpMapEntry unused in AmqpMap.Enumerate(encoded))
        {
            entries++;
        }

        Assert.Equal(3, entries);
    }

    [Fact]
    public void WriterAndReader_Arrays_MatchReference()
    {
        byte[] ours = Encoded.With((ref AmqpWriter w) =>
        {
            w.WriteSymbolArray("PLAIN", "ANONYMOUS", "EXTERNAL");
            w.WriteUIntArray([1, 2, 300]);
            w.WriteULongArray([1, ulong.MaxValue]);
            w.WriteIntArray([-1, 5]);
            w.WriteLongArray([long.MinValue]);
            w.WriteUuidArray([Guid.Parse("00112233-4455-6677-8899-aabbccddeeff")]);
            w.WriteStringArray("a", "é");
        });

        var reader = new AmqpReader(ours);
        int start = 0;
        object?[] expected =
        [
            new Symbol[] { "PLAIN", "ANONYMOUS", "EXTERNAL" },
            new uint[] { 1, 2, 300 },
            new ulong[] { 1, ulong.MaxValue },
            new int[] { -1, 5 },
            new long[] { long.MinValue },
            new Guid[] { Guid.Parse("00112233-4455-6677-8899-aabbccddeeff") },
            new string[] { "a", "é" },
        ];
        foreach (object? array in expected)
        {
            reader.SkipValue();
            byte[] one = ours[start..reader.Position];
            Assert.Equal(Normalise(array), Normalise(Reference.Decode(one)));
            Assert.Equal(Normalise(Reference.Decode(Reference.Encode(array))), Normalise(Reference.Decode(one)));
            start = reader.Position;
        }

        reader = new AmqpReader(Reference.Encode(new Symbol[] { "a", "bb" }));
        AmqpReader symbols = reader.ReadArray(out int count, out byte code);
        Assert.Equal(2, count);
        Assert.True(code is AmqpFormatCode.Symbol8 or AmqpFormatCode.Symbol32); // AMQPNetLite always uses sym32 in arrays
        Assert.Equal("a"u8.ToArray(), symbols.ReadSymbol().ToArray());
        Assert.Equal("bb"u8.ToArray(), symbols.ReadSymbol().ToArray());
        Assert.True(symbols.IsAtEnd);

        reader = new AmqpReader(Reference.Encode(new int[] { 7, -8, 9 }));
        AmqpReader ints = reader.ReadArray(out count, out code);
        Assert.Equal((3, AmqpFormatCode.Int), (count, code));
        Assert.Equal([7, -8, 9], new[] { ints.ReadInt(), ints.ReadInt(), ints.ReadInt() });
    }

    [Fact]
    public void Symbols_SingleSymbolOrArray_AreEnumerated()
    {
        Assert.True(AmqpSymbols.Contains(Reference.Encode(new Symbol("ANONYMOUS")), "ANONYMOUS"u8));
        byte[] array = Reference.Encode(new Symbol[] { "PLAIN", "EXTERNAL" });
        Assert.True(AmqpSymbols.Contains(array, "EXTERNAL"u8));
        Assert.False(AmqpSymbols.Contains(array, "ANONYMOUS"u8));
        Assert.Equal(2, AmqpSymbols.Count(array));
        Assert.Equal(0, AmqpSymbols.Count(default));
    }

    [Fact]
    public void WriterAndReader_DescribedValues_NumericAndSymbolicDescriptors()
    {
        byte[] ours = Encoded.With((ref AmqpWriter w) =>
        {
            w.WriteDescriptor(0x1234_5678_9ABCul);
            w.WriteString("x");
            w.WriteDescriptor("com.example:thing"u8);
            w.WriteInt(3);
            w.WriteDescriptor("amqp:accepted:list"u8);
            w.BeginList();
            w.EndList();
        });

        var reader = new AmqpReader(ours);
        Assert.Equal(0x1234_5678_9ABCul, reader.ReadDescriptor(out _));
        Assert.Equal("x"u8.ToArray(), reader.ReadString().ToArray());
        int firstEnd = reader.Position;
        Assert.Equal(AmqpDescriptor.Unknown, reader.ReadDescriptor(out ReadOnlySpan<byte> symbol));
        Assert.Equal("com.example:thing"u8.ToArray(), symbol.ToArray());
        Assert.Equal(3, reader.ReadInt());
        Assert.Equal(AmqpDescriptor.Accepted, reader.ReadDescriptor(out _));
        reader.ReadList(out _);
        Assert.True(reader.IsAtEnd);

        var theirs = Assert.IsType<DescribedValue>(Reference.Decode(ours[..firstEnd]));
        Assert.Equal(0x1234_5678_9ABCul, theirs.Descriptor);
        Assert.Equal("x", theirs.Value);

        byte[] reference = Reference.Encode(new DescribedValue(new Symbol("com.example:thing"), 3));
        reader = new AmqpReader(reference);
        reader.ReadDescriptor(out symbol);
        Assert.Equal("com.example:thing"u8.ToArray(), symbol.ToArray());
        Assert.Equal(3, reader.ReadInt());
    }

    [Fact]
    public void SkipValue_EveryReferenceValue_ConsumesExactlyItsEncoding()
    {
        object?[] values =
        [
            null, true, (byte)1, (ushort)2, 3u, 4ul, (sbyte)-1, (short)-2, -3, -4L, 1.5f, 2.5, 'x', DateTime.UnixEpoch, Guid.NewGuid(),
            new byte[] { 1, 2 }, "text", new Symbol("sym"), new AmqpList { 1, "a", new Map { ["k"] = 2 } },
            new Map { ["k"] = new AmqpList { 1, 2 } }, new int[] { 1, 2 }, new Symbol[] { "a" },
            new DescribedValue(9ul, new AmqpList { 1 }),
        ];
        foreach (object? value in values)
        {
            byte[] encoded = Reference.Encode(value);
            var reader = new AmqpReader([.. encoded, 0x40]);
            Assert.Equal(encoded, reader.ReadEncodedValue().ToArray());
            Assert.True(reader.TryReadNull());
            Assert.True(reader.IsAtEnd);
        }
    }

    private static readonly DateTime s_timestamp = DateTime.UnixEpoch.AddMilliseconds(0x18BCFE56800);
    private static readonly Guid s_uuid = Guid.Parse("00112233-4455-6677-8899-aabbccddeeff");

    private static object? ReferenceValue(string name) => name switch
    {
        "null" => null,
        "true" => true,
        "false" => false,
        "ubyte 7" => (byte)7,
        "ushort 300" => (ushort)300,
        "uint 0" => 0u,
        "uint 5" => 5u,
        "uint 70000" => 70000u,
        "ulong 0" => 0ul,
        "ulong 5" => 5ul,
        "ulong 2^40" => 1ul << 40,
        "byte -5" => (sbyte)-5,
        "short -300" => (short)-300,
        "int -5" => -5,
        "int 70000" => 70000,
        "long -5" => -5L,
        "long 2^40" => 1L << 40,
        "float 1.5" => 1.5f,
        "double 2.25" => 2.25,
        "char é" => 'é',
        "timestamp" => s_timestamp,
        "uuid" => s_uuid,
        "binary" => new byte[] { 1, 2, 3 },
        "string" => "aé",
        "symbol" => new Symbol("abc"),
        _ => throw new ArgumentOutOfRangeException(nameof(name)),
    };

    private static void WriteOurs(ref AmqpWriter w, string name)
    {
        switch (name)
        {
            case "null": w.WriteNull(); break;
            case "true": w.WriteBoolean(true); break;
            case "false": w.WriteBoolean(false); break;
            case "ubyte 7": w.WriteUByte(7); break;
            case "ushort 300": w.WriteUShort(300); break;
            case "uint 0": w.WriteUInt(0); break;
            case "uint 5": w.WriteUInt(5); break;
            case "uint 70000": w.WriteUInt(70000); break;
            case "ulong 0": w.WriteULong(0); break;
            case "ulong 5": w.WriteULong(5); break;
            case "ulong 2^40": w.WriteULong(1ul << 40); break;
            case "byte -5": w.WriteByte(-5); break;
            case "short -300": w.WriteShort(-300); break;
            case "int -5": w.WriteInt(-5); break;
            case "int 70000": w.WriteInt(70000); break;
            case "long -5": w.WriteLong(-5); break;
            case "long 2^40": w.WriteLong(1L << 40); break;
            case "float 1.5": w.WriteFloat(1.5f); break;
            case "double 2.25": w.WriteDouble(2.25); break;
            case "char é": w.WriteChar('é'); break;
            case "timestamp": w.WriteTimestamp(0x18BCFE56800); break;
            case "uuid": w.WriteUuid(s_uuid); break;
            case "binary": w.WriteBinary([1, 2, 3]); break;
            case "string": w.WriteString("aé"); break;
            case "symbol": w.WriteSymbol("abc"u8); break;
            default: throw new ArgumentOutOfRangeException(nameof(name));
        }
    }

    private static object? ReadOurs(ref AmqpReader r, string name) => name switch
    {
        "null" => r.TryReadNull() ? null : "not null",
        "true" or "false" => r.ReadBoolean(),
        "ubyte 7" => r.ReadUByte(),
        "ushort 300" => r.ReadUShort(),
        "uint 0" or "uint 5" or "uint 70000" => r.ReadUInt(),
        "ulong 0" or "ulong 5" or "ulong 2^40" => r.ReadULong(),
        "byte -5" => r.ReadByte(),
        "short -300" => r.ReadShort(),
        "int -5" or "int 70000" => r.ReadInt(),
        "long -5" or "long 2^40" => r.ReadLong(),
        "float 1.5" => r.ReadFloat(),
        "double 2.25" => r.ReadDouble(),
        "char é" => (char)r.ReadChar(),
        "timestamp" => Normalise(DateTime.UnixEpoch.AddMilliseconds(r.ReadTimestamp())),
        "uuid" => r.ReadUuid(),
        "binary" => Normalise(r.ReadBinary().ToArray()),
        "string" => Encoding.UTF8.GetString(r.ReadString()),
        "symbol" => Encoding.ASCII.GetString(r.ReadSymbol()),
        _ => throw new ArgumentOutOfRangeException(nameof(name)),
    };

    /// <summary>Makes values comparable with Assert.Equal: arrays as hex or lists of strings, symbols and times as text.</summary>
    private static object? Normalise(object? value) => value switch
    {
        byte[] bytes => Convert.ToHexString(bytes),
        Symbol symbol => (string)symbol,
        DateTime time => time.ToUniversalTime().Ticks,
        Array array => string.Join("|", array.Cast<object?>().Select(Normalise)),
        _ => value,
    };
}
