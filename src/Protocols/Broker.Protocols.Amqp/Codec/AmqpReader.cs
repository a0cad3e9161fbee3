using System.Buffers.Binary;
using System.Runtime.CompilerServices;

namespace Broker.Protocols.Amqp.Codec;

/// <summary>
/// A forward-only reader of AMQP 1.0 encoded values over one contiguous span (types §1). Strings, symbols, binaries
/// and encoded sub-values come back as slices of the input; nothing is allocated. Reading a list, map or array gives
/// a reader bounded to that compound's elements. Every malformed input throws <see cref="AmqpDecodeException"/>.
/// </summary>
public ref struct AmqpReader
{
    private const int MaxSkipDepth = 32;

    // Zero-width elements (null, true, false, uint0...) take no bytes, so their count is bounded by this instead.
    private const int MaxZeroWidthElements = 1024;

    private readonly ReadOnlySpan<byte> _buffer;
    private readonly byte _arrayCode;
    private int _position;
    private int _remaining;

    /// <summary>Reads a sequence of values (for example a frame body) from <paramref name="buffer"/>.</summary>
    public AmqpReader(ReadOnlySpan<byte> buffer)
    {
        _buffer = buffer;
        _remaining = int.MaxValue;
    }

    private AmqpReader(ReadOnlySpan<byte> buffer, int count, byte arrayCode)
    {
        _buffer = buffer;
        _remaining = count;
        _arrayCode = arrayCode;
    }

    /// <summary>The offset of the next value in the input.</summary>
    public readonly int Position => _position;

    /// <summary>The input.</summary>
    public readonly ReadOnlySpan<byte> Buffer => _buffer;

    /// <summary>The bytes not read yet.</summary>
    public readonly ReadOnlySpan<byte> UnreadSpan => _buffer[_position..];

    /// <summary>The number of elements still to read in a list, map or array; <see cref="int.MaxValue"/> at the top level.</summary>
    public readonly int RemainingCount => _remaining;

    /// <summary>True when no value is left (the compound's count is reached or the input is exhausted).</summary>
    public readonly bool IsAtEnd => _remaining <= 0 || (_position >= _buffer.Length && !HasZeroWidthElements);

    // An array of nulls, trues, falses, uint0s... has elements but no element bytes.
    private readonly bool HasZeroWidthElements => _arrayCode != 0 && AmqpFormatCode.GetFixedWidth(_arrayCode) == 0;

    /// <summary>The format code of the next value without consuming it (the shared code inside an array).</summary>
    public readonly byte PeekFormatCode()
    {
        if (_arrayCode != 0)
        {
            return _arrayCode;
        }

        if (_position >= _buffer.Length || _remaining <= 0)
        {
            AmqpDecodeException.Throw(AmqpDecodeError.Truncated);
        }

        return _buffer[_position];
    }

    /// <summary>
    /// True, consuming it, when the next field is null or absent (past the end of its list): the check every optional
    /// field starts with.
    /// </summary>
    public bool TryReadNull()
    {
        if (IsAtEnd)
        {
            return true;
        }

        if (PeekFormatCode() != AmqpFormatCode.Null)
        {
            return false;
        }

        ReadFormatCode();
        return true;
    }

    /// <summary>True when the next value is described (starts with 0x00).</summary>
    public readonly bool IsNextDescribed => !IsAtEnd && PeekFormatCode() == AmqpFormatCode.Described;

    /// <summary>
    /// Reads the 0x00 constructor and the descriptor of a described value. A symbolic descriptor of a type this codec
    /// knows is translated to its numeric code; any other symbol gives <see cref="AmqpDescriptor.Unknown"/> and
    /// <paramref name="symbol"/>. The described value itself is read next and counts as the element.
    /// </summary>
    public ulong ReadDescriptor(out ReadOnlySpan<byte> symbol)
    {
        if (PeekFormatCode() != AmqpFormatCode.Described || _arrayCode != 0)
        {
            AmqpDecodeException.Throw(AmqpDecodeError.UnexpectedType, "a described type");
        }

        _position++;
        byte code = Take(1)[0];
        switch (code)
        {
            case AmqpFormatCode.SmallULong:
                symbol = default;
                return Take(1)[0];
            case AmqpFormatCode.ULong:
                symbol = default;
                return BinaryPrimitives.ReadUInt64BigEndian(Take(8));
            case AmqpFormatCode.ULong0:
                symbol = default;
                return 0;
            case AmqpFormatCode.Symbol8:
                symbol = Take(Take(1)[0]);
                return AmqpDescriptor.FromSymbol(symbol);
            case AmqpFormatCode.Symbol32:
                symbol = Take(ReadLength32());
                return AmqpDescriptor.FromSymbol(symbol);
            default:
                AmqpDecodeException.Throw(AmqpDecodeError.UnexpectedType, "descriptor");
                symbol = default;
                return 0;
        }
    }

    /// <summary>Reads a descriptor and checks it is <paramref name="expected"/>.</summary>
    public void ReadDescriptor(ulong expected)
    {
        if (ReadDescriptor(out _) != expected)
        {
            AmqpDecodeException.Throw(AmqpDecodeError.UnexpectedDescriptor);
        }
    }

    public bool ReadBoolean()
    {
        switch (ReadFormatCode())
        {
            case AmqpFormatCode.BooleanTrue:
                return true;
            case AmqpFormatCode.BooleanFalse:
                return false;
            case AmqpFormatCode.Boolean:
                byte value = Take(1)[0];
                if (value > 1)
                {
                    AmqpDecodeException.Throw(AmqpDecodeError.InvalidBoolean);
                }

                return value == 1;
            default:
                return ThrowUnexpected<bool>("boolean");
        }
    }

    public byte ReadUByte() => ReadFormatCode() == AmqpFormatCode.UByte ? Take(1)[0] : ThrowUnexpected<byte>("ubyte");

    public ushort ReadUShort()
        => ReadFormatCode() == AmqpFormatCode.UShort ? BinaryPrimitives.ReadUInt16BigEndian(Take(2)) : ThrowUnexpected<ushort>("ushort");

    public uint ReadUInt() => ReadFormatCode() switch
    {
        AmqpFormatCode.UInt => BinaryPrimitives.ReadUInt32BigEndian(Take(4)),
        AmqpFormatCode.SmallUInt => Take(1)[0],
        AmqpFormatCode.UInt0 => 0,
        _ => ThrowUnexpected<uint>("uint"),
    };

    public ulong ReadULong() => ReadFormatCode() switch
    {
        AmqpFormatCode.ULong => BinaryPrimitives.ReadUInt64BigEndian(Take(8)),
        AmqpFormatCode.SmallULong => Take(1)[0],
        AmqpFormatCode.ULong0 => 0,
        _ => ThrowUnexpected<ulong>("ulong"),
    };

    public sbyte ReadByte() => ReadFormatCode() == AmqpFormatCode.Byte ? (sbyte)Take(1)[0] : ThrowUnexpected<sbyte>("byte");

    public short ReadShort()
        => ReadFormatCode() == AmqpFormatCode.Short ? BinaryPrimitives.ReadInt16BigEndian(Take(2)) : ThrowUnexpected<short>("short");

    public int ReadInt() => ReadFormatCode() switch
    {
        AmqpFormatCode.Int => BinaryPrimitives.ReadInt32BigEndian(Take(4)),
        AmqpFormatCode.SmallInt => (sbyte)Take(1)[0],
        _ => ThrowUnexpected<int>("int"),
    };

    public long ReadLong() => ReadFormatCode() switch
    {
        AmqpFormatCode.Long => BinaryPrimitives.ReadInt64BigEndian(Take(8)),
        AmqpFormatCode.SmallLong => (sbyte)Take(1)[0],
        _ => ThrowUnexpected<long>("long"),
    };

    public float ReadFloat()
        => ReadFormatCode() == AmqpFormatCode.Float ? BinaryPrimitives.ReadSingleBigEndian(Take(4)) : ThrowUnexpected<float>("float");

    public double ReadDouble()
        => ReadFormatCode() == AmqpFormatCode.Double ? BinaryPrimitives.ReadDoubleBigEndian(Take(8)) : ThrowUnexpected<double>("double");

    /// <summary>Reads a decimal32, decimal64 or decimal128 as its raw IEEE 754 bytes (4, 8 or 16, network order).</summary>
    public ReadOnlySpan<byte> ReadDecimal() => ReadFormatCode() switch
    {
        AmqpFormatCode.Decimal32 => Take(4),
        AmqpFormatCode.Decimal64 => Take(8),
        AmqpFormatCode.Decimal128 => Take(16),
        _ => ThrowUnexpectedSpan("decimal"),
    };

    /// <summary>Reads a char as its UTF-32 code point.</summary>
    public uint ReadChar()
        => ReadFormatCode() == AmqpFormatCode.Char ? BinaryPrimitives.ReadUInt32BigEndian(Take(4)) : ThrowUnexpected<uint>("char");

    /// <summary>Reads a timestamp: milliseconds since the Unix epoch.</summary>
    public long ReadTimestamp()
        => ReadFormatCode() == AmqpFormatCode.Timestamp ? BinaryPrimitives.ReadInt64BigEndian(Take(8)) : ThrowUnexpected<long>("timestamp");

    /// <summary>Reads a uuid (RFC 4122 byte order on the wire).</summary>
    public Guid ReadUuid()
        => ReadFormatCode() == AmqpFormatCode.Uuid ? new Guid(Take(16), bigEndian: true) : ThrowUnexpected<Guid>("uuid");

    /// <summary>Reads a binary (vbin8/vbin32) as a slice of the input.</summary>
    public ReadOnlySpan<byte> ReadBinary() => ReadFormatCode() switch
    {
        AmqpFormatCode.Binary8 => Take(Take(1)[0]),
        AmqpFormatCode.Binary32 => Take(ReadLength32()),
        _ => ThrowUnexpectedSpan("binary"),
    };

    /// <summary>Reads a string (str8/str32, UTF-8) as a slice of the input; the bytes are not validated.</summary>
    public ReadOnlySpan<byte> ReadString() => ReadFormatCode() switch
    {
        AmqpFormatCode.String8 => Take(Take(1)[0]),
        AmqpFormatCode.String32 => Take(ReadLength32()),
        _ => ThrowUnexpectedSpan("string"),
    };

    /// <summary>Reads a symbol (sym8/sym32, ASCII) as a slice of the input.</summary>
    public ReadOnlySpan<byte> ReadSymbol() => ReadFormatCode() switch
    {
        AmqpFormatCode.Symbol8 => Take(Take(1)[0]),
        AmqpFormatCode.Symbol32 => Take(ReadLength32()),
        _ => ThrowUnexpectedSpan("symbol"),
    };

    /// <summary>Reads a list (list0/list8/list32) and returns a reader over its <paramref name="count"/> elements.</summary>
    public AmqpReader ReadList(out int count)
    {
        byte code = ReadFormatCode();
        if (code == AmqpFormatCode.List0)
        {
            count = 0;
            return new AmqpReader(default, 0, 0);
        }

        if (code is not (AmqpFormatCode.List8 or AmqpFormatCode.List32))
        {
            count = 0;
            return ThrowUnexpected<AmqpReader>("list");
        }

        return ReadCompound(code, out count);
    }

    /// <summary>Reads a map (map8/map32) and returns a reader over its <paramref name="count"/> elements (keys and values).</summary>
    public AmqpReader ReadMap(out int count)
    {
        byte code = ReadFormatCode();
        if (code is not (AmqpFormatCode.Map8 or AmqpFormatCode.Map32))
        {
            count = 0;
            return ThrowUnexpected<AmqpReader>("map");
        }

        AmqpReader map = ReadCompound(code, out count);
        if ((count & 1) != 0)
        {
            AmqpDecodeException.Throw(AmqpDecodeError.InvalidSize, "odd map count");
        }

        return map;
    }

    /// <summary>
    /// Reads an array (array8/array32) and returns a reader over its <paramref name="count"/> elements, which share
    /// <paramref name="elementCode"/>; an element descriptor, if any, is skipped.
    /// </summary>
    public AmqpReader ReadArray(out int count, out byte elementCode)
    {
        byte code = ReadFormatCode();
        if (code is not (AmqpFormatCode.Array8 or AmqpFormatCode.Array32))
        {
            count = 0;
            elementCode = 0;
            return ThrowUnexpected<AmqpReader>("array");
        }

        return ReadArrayBody(code, out count, out elementCode);
    }

    /// <summary>Skips the next value, whatever its type.</summary>
    public void SkipValue()
    {
        byte code = ReadFormatCode();
        SkipOne(code, 0);
    }

    /// <summary>Reads the next value, whatever its type, as its whole encoding (constructor included).</summary>
    public ReadOnlySpan<byte> ReadEncodedValue()
    {
        if (_arrayCode != 0)
        {
            // Array elements carry no constructor of their own, so they are not self-contained encodings.
            return ThrowUnexpectedSpan("self-contained value");
        }

        int start = _position;
        SkipValue();
        return _buffer[start.._position];
    }

    /// <summary>Reads the next field as its whole encoding, or an empty span when it is null or absent.</summary>
    public ReadOnlySpan<byte> ReadEncodedValueOrEmpty() => TryReadNull() ? default : ReadEncodedValue();

    public bool? ReadBooleanOrNull() => TryReadNull() ? null : ReadBoolean();

    public byte? ReadUByteOrNull() => TryReadNull() ? null : ReadUByte();

    public ushort? ReadUShortOrNull() => TryReadNull() ? null : ReadUShort();

    public uint? ReadUIntOrNull() => TryReadNull() ? null : ReadUInt();

    public ulong? ReadULongOrNull() => TryReadNull() ? null : ReadULong();

    public long? ReadTimestampOrNull() => TryReadNull() ? null : ReadTimestamp();

    /// <summary>Reads an optional string field; null, absent and empty all give an empty span.</summary>
    public ReadOnlySpan<byte> ReadStringOrEmpty() => TryReadNull() ? default : ReadString();

    /// <summary>Reads an optional symbol field; null, absent and empty all give an empty span.</summary>
    public ReadOnlySpan<byte> ReadSymbolOrEmpty() => TryReadNull() ? default : ReadSymbol();

    /// <summary>Reads an optional binary field; null, absent and empty all give an empty span.</summary>
    public ReadOnlySpan<byte> ReadBinaryOrEmpty() => TryReadNull() ? default : ReadBinary();

    /// <summary>Reads an optional map field (fields, annotations, filter-set...) as its whole encoding, or an empty span.</summary>
    public ReadOnlySpan<byte> ReadMapOrEmpty()
    {
        if (TryReadNull())
        {
            return default;
        }

        if (PeekFormatCode() is not (AmqpFormatCode.Map8 or AmqpFormatCode.Map32))
        {
            return ThrowUnexpectedSpan("map");
        }

        return ReadEncodedValue();
    }

    /// <summary>
    /// Reads an optional "multiple symbol" field (one symbol or an array of symbols) as its whole encoding, or an
    /// empty span; <see cref="AmqpSymbols"/> looks inside.
    /// </summary>
    public ReadOnlySpan<byte> ReadMultipleSymbolOrEmpty()
    {
        if (TryReadNull())
        {
            return default;
        }

        byte code = PeekFormatCode();
        if (code is not (AmqpFormatCode.Symbol8 or AmqpFormatCode.Symbol32 or AmqpFormatCode.Array8 or AmqpFormatCode.Array32))
        {
            return ThrowUnexpectedSpan("symbol or array of symbols");
        }

        int start = _position;
        if (code is AmqpFormatCode.Array8 or AmqpFormatCode.Array32)
        {
            AmqpReader array = ReadArray(out _, out byte elementCode);
            if (elementCode is not (AmqpFormatCode.Symbol8 or AmqpFormatCode.Symbol32))
            {
                return ThrowUnexpectedSpan("array of symbols");
            }

            while (!array.IsAtEnd)
            {
                array.ReadSymbol();
            }
        }
        else
        {
            ReadSymbol();
        }

        return _buffer[start.._position];
    }

    /// <summary>Reads a mandatory field's null check: throws when the field is null or absent.</summary>
    public void RequireField(string name)
    {
        if (TryReadNull())
        {
            AmqpDecodeException.ThrowMissing(name);
        }
    }

    /// <summary>Consumes the format code of the next value (only counts the element inside an array).</summary>
    internal byte ReadFormatCode()
    {
        if (_remaining <= 0)
        {
            AmqpDecodeException.Throw(AmqpDecodeError.Truncated);
        }

        _remaining--;
        if (_arrayCode != 0)
        {
            return _arrayCode;
        }

        if (_position >= _buffer.Length)
        {
            AmqpDecodeException.Throw(AmqpDecodeError.Truncated);
        }

        return _buffer[_position++];
    }

    private void SkipOne(byte code, int depth)
    {
        if (code == AmqpFormatCode.Described)
        {
            if (depth >= MaxSkipDepth)
            {
                AmqpDecodeException.Throw(AmqpDecodeError.NestingTooDeep);
            }

            SkipOne(Take(1)[0], depth + 1); // the descriptor
            SkipOne(Take(1)[0], depth + 1); // the value
            return;
        }

        int width = AmqpFormatCode.GetFixedWidth(code);
        if (code == AmqpFormatCode.Boolean)
        {
            if (Take(1)[0] > 1)
            {
                AmqpDecodeException.Throw(AmqpDecodeError.InvalidBoolean);
            }

            return;
        }

        if (width >= 0)
        {
            Take(width);
            return;
        }

        switch (code)
        {
            case AmqpFormatCode.Binary8 or AmqpFormatCode.String8 or AmqpFormatCode.Symbol8:
                Take(Take(1)[0]);
                return;
            case AmqpFormatCode.Binary32 or AmqpFormatCode.String32 or AmqpFormatCode.Symbol32:
                Take(ReadLength32());
                return;
            case AmqpFormatCode.List8 or AmqpFormatCode.List32:
                ReadSizedContent(code, out _);
                return;
            case AmqpFormatCode.Map8 or AmqpFormatCode.Map32:
                ReadSizedContent(code, out int count);
                if ((count & 1) != 0)
                {
                    AmqpDecodeException.Throw(AmqpDecodeError.InvalidSize, "odd map count");
                }

                return;
            case AmqpFormatCode.Array8 or AmqpFormatCode.Array32:
                // Validated like a typed read so that skipping and reading agree on what is well formed.
                ReadArrayBody(code, out _, out _);
                return;
            default:
                AmqpDecodeException.Throw(AmqpDecodeError.InvalidFormatCode, $"0x{code:X2}");
                return;
        }
    }

    private AmqpReader ReadArrayBody(byte code, out int count, out byte elementCode)
    {
        ReadOnlySpan<byte> content = ReadSizedContent(code, out count);
        var constructor = new AmqpReader(content);
        byte first = constructor.Take(1)[0];
        if (first == AmqpFormatCode.Described)
        {
            constructor.SkipOne(constructor.Take(1)[0], 1);
            first = constructor.Take(1)[0];
        }

        elementCode = first;
        int width = AmqpFormatCode.GetFixedWidth(elementCode);
        int sizeWidth = AmqpFormatCode.GetSizeWidth(elementCode);
        if ((width < 0 && sizeWidth == 0) || elementCode == AmqpFormatCode.Described)
        {
            AmqpDecodeException.Throw(AmqpDecodeError.InvalidFormatCode, "array element");
        }

        // Each element takes its width (or its size field); zero-width elements are bounded by a count.
        int elementBytes = content.Length - constructor._position;
        long minimum = (long)count * (width > 0 ? width : sizeWidth);
        if (minimum > elementBytes || (width == 0 && count > MaxZeroWidthElements))
        {
            AmqpDecodeException.Throw(AmqpDecodeError.InvalidSize, "array count");
        }

        return new AmqpReader(content[constructor._position..], count, elementCode);
    }

    private AmqpReader ReadCompound(byte code, out int count)
    {
        ReadOnlySpan<byte> content = ReadSizedContent(code, out count);
        return new AmqpReader(content, count, 0);
    }

    /// <summary>Reads a compound's size and count; returns the bytes after the count.</summary>
    private ReadOnlySpan<byte> ReadSizedContent(byte code, out int count)
    {
        int sizeWidth = AmqpFormatCode.GetSizeWidth(code);
        int size = sizeWidth == 1 ? Take(1)[0] : ReadLength32();
        if (size < sizeWidth)
        {
            AmqpDecodeException.Throw(AmqpDecodeError.InvalidSize);
        }

        ReadOnlySpan<byte> body = Take(size);
        uint declared = sizeWidth == 1 ? body[0] : BinaryPrimitives.ReadUInt32BigEndian(body);
        ReadOnlySpan<byte> content = body[sizeWidth..];

        // Every element of a list or map takes at least one byte; arrays are checked by their reader.
        if (declared > (uint)content.Length && code is not (AmqpFormatCode.Array8 or AmqpFormatCode.Array32))
        {
            AmqpDecodeException.Throw(AmqpDecodeError.InvalidSize, "count larger than size");
        }

        if (declared > int.MaxValue)
        {
            AmqpDecodeException.Throw(AmqpDecodeError.InvalidSize);
        }

        count = (int)declared;
        return content;
    }

    private int ReadLength32()
    {
        uint length = BinaryPrimitives.ReadUInt32BigEndian(Take(4));
        if (length > int.MaxValue)
        {
            AmqpDecodeException.Throw(AmqpDecodeError.Truncated);
        }

        return (int)length;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private ReadOnlySpan<byte> Take(int length)
    {
        if ((uint)length > (uint)(_buffer.Length - _position))
        {
            AmqpDecodeException.Throw(AmqpDecodeError.Truncated);
        }

        ReadOnlySpan<byte> slice = _buffer.Slice(_position, length);
        _position += length;
        return slice;
    }

    private static T ThrowUnexpected<T>(string expected)
        where T : allows ref struct
    {
        AmqpDecodeException.Throw(AmqpDecodeError.UnexpectedType, expected);
        return default!;
    }

    private static ReadOnlySpan<byte> ThrowUnexpectedSpan(string expected)
    {
        AmqpDecodeException.Throw(AmqpDecodeError.UnexpectedType, expected);
        return default;
    }
}
