using System.Buffers;
using System.Buffers.Binary;
using System.Runtime.CompilerServices;
using System.Text;

namespace Broker.Protocols.Amqp.Codec;

/// <summary>
/// Writes AMQP 1.0 encoded values, always in their smallest encoding (uint0/smalluint/uint, list0/list8/list32...),
/// into an <see cref="IBufferWriter{T}"/> (typically the connection's PipeWriter) or a caller's span, without
/// allocating. Lists and maps are written with room for a 32-bit header and compacted when they end, so an open
/// compound stays in one contiguous block: the writer grows that block (copying what is not committed) when it runs
/// out. Described lists drop trailing null fields, as performatives should. Misuse (unbalanced compounds, a full
/// caller span) throws <see cref="InvalidOperationException"/>.
/// </summary>
public ref struct AmqpWriter
{
    private const int MaxDepth = 16;
    private const int CompoundHeaderSize = 9; // code + 32-bit size + 32-bit count
    private const int MinimumBlock = 256;

    private readonly IBufferWriter<byte>? _output;
    private Span<byte> _buffer;
    private int _position;
    private int _depth;
    private CompoundStack _stack;

    /// <summary>Writes into <paramref name="buffer"/>; running out of room throws.</summary>
    public AmqpWriter(Span<byte> buffer)
    {
        _buffer = buffer;
    }

    /// <summary>Writes into <paramref name="output"/>; call <see cref="Commit"/> to advance it.</summary>
    public AmqpWriter(IBufferWriter<byte> output, int sizeHint = MinimumBlock)
    {
        ArgumentNullException.ThrowIfNull(output);
        _output = output;
        _buffer = output.GetSpan(Math.Max(sizeHint, 16));
    }

    /// <summary>The number of bytes written and not yet committed.</summary>
    public readonly int Position => _position;

    /// <summary>The bytes written and not yet committed.</summary>
    public readonly ReadOnlySpan<byte> WrittenSpan => _buffer[.._position];

    /// <summary>The open lists, maps and regions.</summary>
    public readonly int Depth => _depth;

    /// <summary>Advances the underlying <see cref="IBufferWriter{T}"/> past everything written so far.</summary>
    public void Commit()
    {
        if (_depth != 0)
        {
            throw new InvalidOperationException("A list, map or region is still open.");
        }

        if (_output is null)
        {
            throw new InvalidOperationException("Only a writer over an IBufferWriter commits.");
        }

        _output.Advance(_position);
        _buffer = _buffer[_position..];
        _position = 0;
    }

    public void WriteNull()
    {
        Ensure(1)[0] = AmqpFormatCode.Null;
        Advance(1, isNull: true);
    }

    public void WriteBoolean(bool value)
    {
        Ensure(1)[0] = value ? AmqpFormatCode.BooleanTrue : AmqpFormatCode.BooleanFalse;
        Advance(1);
    }

    public void WriteBoolean(bool? value)
    {
        if (value is { } v)
        {
            WriteBoolean(v);
        }
        else
        {
            WriteNull();
        }
    }

    public void WriteUByte(byte value)
    {
        Span<byte> span = Ensure(2);
        span[0] = AmqpFormatCode.UByte;
        span[1] = value;
        Advance(2);
    }

    public void WriteUByte(byte? value)
    {
        if (value is { } v)
        {
            WriteUByte(v);
        }
        else
        {
            WriteNull();
        }
    }

    public void WriteUShort(ushort value)
    {
        Span<byte> span = Ensure(3);
        span[0] = AmqpFormatCode.UShort;
        BinaryPrimitives.WriteUInt16BigEndian(span[1..], value);
        Advance(3);
    }

    public void WriteUShort(ushort? value)
    {
        if (value is { } v)
        {
            WriteUShort(v);
        }
        else
        {
            WriteNull();
        }
    }

    public void WriteUInt(uint value)
    {
        Span<byte> span = Ensure(5);
        if (value == 0)
        {
            span[0] = AmqpFormatCode.UInt0;
            Advance(1);
        }
        else if (value <= byte.MaxValue)
        {
            span[0] = AmqpFormatCode.SmallUInt;
            span[1] = (byte)value;
            Advance(2);
        }
        else
        {
            span[0] = AmqpFormatCode.UInt;
            BinaryPrimitives.WriteUInt32BigEndian(span[1..], value);
            Advance(5);
        }
    }

    public void WriteUInt(uint? value)
    {
        if (value is { } v)
        {
            WriteUInt(v);
        }
        else
        {
            WriteNull();
        }
    }

    public void WriteULong(ulong value)
    {
        Span<byte> span = Ensure(9);
        if (value == 0)
        {
            span[0] = AmqpFormatCode.ULong0;
            Advance(1);
        }
        else if (value <= byte.MaxValue)
        {
            span[0] = AmqpFormatCode.SmallULong;
            span[1] = (byte)value;
            Advance(2);
        }
        else
        {
            span[0] = AmqpFormatCode.ULong;
            BinaryPrimitives.WriteUInt64BigEndian(span[1..], value);
            Advance(9);
        }
    }

    public void WriteULong(ulong? value)
    {
        if (value is { } v)
        {
            WriteULong(v);
        }
        else
        {
            WriteNull();
        }
    }

    public void WriteByte(sbyte value)
    {
        Span<byte> span = Ensure(2);
        span[0] = AmqpFormatCode.Byte;
        span[1] = (byte)value;
        Advance(2);
    }

    public void WriteShort(short value)
    {
        Span<byte> span = Ensure(3);
        span[0] = AmqpFormatCode.Short;
        BinaryPrimitives.WriteInt16BigEndian(span[1..], value);
        Advance(3);
    }

    public void WriteInt(int value)
    {
        Span<byte> span = Ensure(5);
        if (value is >= sbyte.MinValue and <= sbyte.MaxValue)
        {
            span[0] = AmqpFormatCode.SmallInt;
            span[1] = (byte)(sbyte)value;
            Advance(2);
        }
        else
        {
            span[0] = AmqpFormatCode.Int;
            BinaryPrimitives.WriteInt32BigEndian(span[1..], value);
            Advance(5);
        }
    }

    public void WriteLong(long value)
    {
        Span<byte> span = Ensure(9);
        if (value is >= sbyte.MinValue and <= sbyte.MaxValue)
        {
            span[0] = AmqpFormatCode.SmallLong;
            span[1] = (byte)(sbyte)value;
            Advance(2);
        }
        else
        {
            span[0] = AmqpFormatCode.Long;
            BinaryPrimitives.WriteInt64BigEndian(span[1..], value);
            Advance(9);
        }
    }

    public void WriteFloat(float value)
    {
        Span<byte> span = Ensure(5);
        span[0] = AmqpFormatCode.Float;
        BinaryPrimitives.WriteSingleBigEndian(span[1..], value);
        Advance(5);
    }

    public void WriteDouble(double value)
    {
        Span<byte> span = Ensure(9);
        span[0] = AmqpFormatCode.Double;
        BinaryPrimitives.WriteDoubleBigEndian(span[1..], value);
        Advance(9);
    }

    /// <summary>Writes a decimal32, decimal64 or decimal128 from its raw 4, 8 or 16 bytes.</summary>
    public void WriteDecimal(scoped ReadOnlySpan<byte> raw)
    {
        byte code = raw.Length switch
        {
            4 => AmqpFormatCode.Decimal32,
            8 => AmqpFormatCode.Decimal64,
            16 => AmqpFormatCode.Decimal128,
            _ => throw new ArgumentException("A decimal is 4, 8 or 16 bytes.", nameof(raw)),
        };
        Span<byte> span = Ensure(1 + raw.Length);
        span[0] = code;
        raw.CopyTo(span[1..]);
        Advance(1 + raw.Length);
    }

    /// <summary>Writes a char from its UTF-32 code point.</summary>
    public void WriteChar(uint codePoint)
    {
        Span<byte> span = Ensure(5);
        span[0] = AmqpFormatCode.Char;
        BinaryPrimitives.WriteUInt32BigEndian(span[1..], codePoint);
        Advance(5);
    }

    /// <summary>Writes a timestamp: milliseconds since the Unix epoch.</summary>
    public void WriteTimestamp(long milliseconds)
    {
        Span<byte> span = Ensure(9);
        span[0] = AmqpFormatCode.Timestamp;
        BinaryPrimitives.WriteInt64BigEndian(span[1..], milliseconds);
        Advance(9);
    }

    public void WriteTimestamp(long? milliseconds)
    {
        if (milliseconds is { } v)
        {
            WriteTimestamp(v);
        }
        else
        {
            WriteNull();
        }
    }

    public void WriteUuid(Guid value)
    {
        Span<byte> span = Ensure(17);
        span[0] = AmqpFormatCode.Uuid;
        value.TryWriteBytes(span.Slice(1, 16), bigEndian: true, out _);
        Advance(17);
    }

    public void WriteBinary(scoped ReadOnlySpan<byte> value) => WriteVariable(AmqpFormatCode.Binary8, AmqpFormatCode.Binary32, value);

    /// <summary>Writes a string from UTF-8 bytes.</summary>
    public void WriteString(scoped ReadOnlySpan<byte> utf8) => WriteVariable(AmqpFormatCode.String8, AmqpFormatCode.String32, utf8);

    /// <summary>Writes a string, encoding it as UTF-8 in place.</summary>
    public void WriteString(string value)
    {
        ArgumentNullException.ThrowIfNull(value);
        int length = Encoding.UTF8.GetByteCount(value);
        int header = length <= byte.MaxValue ? 2 : 5;
        Span<byte> span = Ensure(header + length);
        WriteVariableHeader(span, AmqpFormatCode.String8, AmqpFormatCode.String32, length);
        Encoding.UTF8.GetBytes(value, span[header..]);
        Advance(header + length);
    }

    /// <summary>Reserves <paramref name="length"/> raw bytes (not a value) and returns them for the caller to fill.</summary>
    public Span<byte> Reserve(int length)
    {
        Span<byte> span = Ensure(length)[..length];
        _position += length;
        return span;
    }

    /// <summary>Writes a symbol from ASCII bytes.</summary>
    public void WriteSymbol(scoped ReadOnlySpan<byte> ascii) => WriteVariable(AmqpFormatCode.Symbol8, AmqpFormatCode.Symbol32, ascii);

    /// <summary>Writes a string field, or null when <paramref name="utf8"/> is empty.</summary>
    public void WriteStringOrNull(scoped ReadOnlySpan<byte> utf8)
    {
        if (utf8.IsEmpty)
        {
            WriteNull();
        }
        else
        {
            WriteString(utf8);
        }
    }

    /// <summary>Writes a symbol field, or null when <paramref name="ascii"/> is empty.</summary>
    public void WriteSymbolOrNull(scoped ReadOnlySpan<byte> ascii)
    {
        if (ascii.IsEmpty)
        {
            WriteNull();
        }
        else
        {
            WriteSymbol(ascii);
        }
    }

    /// <summary>Writes a binary field, or null when <paramref name="value"/> is empty.</summary>
    public void WriteBinaryOrNull(scoped ReadOnlySpan<byte> value)
    {
        if (value.IsEmpty)
        {
            WriteNull();
        }
        else
        {
            WriteBinary(value);
        }
    }

    /// <summary>
    /// Writes one already encoded value as it is (a field kept from a decoded frame, a pre-encoded map...); an empty
    /// span writes null. The bytes are trusted to be exactly one value.
    /// </summary>
    public void WriteEncoded(scoped ReadOnlySpan<byte> encoded)
    {
        if (encoded.IsEmpty)
        {
            WriteNull();
            return;
        }

        encoded.CopyTo(Ensure(encoded.Length));
        Advance(encoded.Length, isNull: encoded.Length == 1 && encoded[0] == AmqpFormatCode.Null);
    }

    /// <summary>Writes the constructor of a described value; the value written next completes the element.</summary>
    public void WriteDescriptor(ulong code)
    {
        Span<byte> span = Ensure(10);
        span[0] = AmqpFormatCode.Described;
        if (code <= byte.MaxValue)
        {
            span[1] = AmqpFormatCode.SmallULong;
            span[2] = (byte)code;
            _position += 3;
        }
        else
        {
            span[1] = AmqpFormatCode.ULong;
            BinaryPrimitives.WriteUInt64BigEndian(span[2..], code);
            _position += 10;
        }
    }

    /// <summary>Writes the constructor of a described value with a symbolic descriptor.</summary>
    public void WriteDescriptor(scoped ReadOnlySpan<byte> symbol)
    {
        // Written without Advance: the descriptor is not an element of the enclosing compound.
        int header = symbol.Length <= byte.MaxValue ? 2 : 5;
        Span<byte> span = Ensure(1 + header + symbol.Length);
        span[0] = AmqpFormatCode.Described;
        WriteVariableHeader(span[1..], AmqpFormatCode.Symbol8, AmqpFormatCode.Symbol32, symbol.Length);
        symbol.CopyTo(span[(1 + header)..]);
        _position += 1 + header + symbol.Length;
    }

    /// <summary>Starts a list; the values written until <see cref="EndList"/> are its elements.</summary>
    public void BeginList() => Push(CompoundKind.List);

    /// <summary>Starts a described list (a performative, composite or section) whose trailing null fields are dropped.</summary>
    public void BeginDescribedList(ulong descriptor)
    {
        WriteDescriptor(descriptor);
        Push(CompoundKind.TrimmedList);
    }

    public void EndList()
    {
        Compound top = Pop(CompoundKind.List, CompoundKind.TrimmedList);
        if (top.Kind == CompoundKind.TrimmedList)
        {
            _position = top.LastNonNullEnd;
            top.Count = top.LastNonNullCount;
        }

        int start = top.Start;
        int contentLength = _position - start - CompoundHeaderSize;
        if (top.Count == 0)
        {
            _buffer[start] = AmqpFormatCode.List0;
            _position = start + 1;
        }
        else
        {
            Close(start, contentLength, top.Count, AmqpFormatCode.List8, AmqpFormatCode.List32);
        }

        Advance(0);
    }

    /// <summary>Starts a map; write keys and values alternately until <see cref="EndMap"/>.</summary>
    public void BeginMap() => Push(CompoundKind.Map);

    public void EndMap()
    {
        Compound top = Pop(CompoundKind.Map, CompoundKind.Map);
        if ((top.Count & 1) != 0)
        {
            throw new InvalidOperationException("A map needs a value for every key.");
        }

        Close(top.Start, _position - top.Start - CompoundHeaderSize, top.Count, AmqpFormatCode.Map8, AmqpFormatCode.Map32);
        Advance(0);
    }

    /// <summary>
    /// Starts a region that must stay contiguous (a frame whose size is patched at its end); returns its offset in
    /// <see cref="WrittenSpan"/>, which stays valid until <see cref="Commit"/>.
    /// </summary>
    public int BeginRegion()
    {
        if (_depth == MaxDepth)
        {
            throw new InvalidOperationException("Compounds are nested too deeply.");
        }

        _stack[_depth++] = new Compound { Kind = CompoundKind.Region, Start = _position };
        return _position;
    }

    /// <summary>Ends the innermost region; returns the writable bytes written since it began.</summary>
    public Span<byte> EndRegion()
    {
        Compound top = Pop(CompoundKind.Region, CompoundKind.Region);
        return _buffer[top.Start.._position];
    }

    /// <summary>Writes an array of symbols (sym8 elements, or sym32 when one is longer than 255).</summary>
    public void WriteSymbolArray(params ReadOnlySpan<string> symbols)
    {
        bool wide = false;
        int total = 0;
        foreach (string symbol in symbols)
        {
            ArgumentNullException.ThrowIfNull(symbol);
            wide |= symbol.Length > byte.MaxValue;
            total += symbol.Length;
        }

        int elementHeader = wide ? 4 : 1;
        int start = BeginArray(wide ? AmqpFormatCode.Symbol32 : AmqpFormatCode.Symbol8, total + (symbols.Length * elementHeader));
        foreach (string symbol in symbols)
        {
            Span<byte> span = _buffer[_position..];
            if (wide)
            {
                BinaryPrimitives.WriteInt32BigEndian(span, symbol.Length);
            }
            else
            {
                span[0] = (byte)symbol.Length;
            }

            Encoding.ASCII.GetBytes(symbol, span[elementHeader..]);
            _position += elementHeader + symbol.Length;
        }

        EndArray(start, symbols.Length);
    }

    public void WriteUIntArray(scoped ReadOnlySpan<uint> values)
    {
        int start = BeginArray(AmqpFormatCode.UInt, values.Length * 4);
        foreach (uint value in values)
        {
            BinaryPrimitives.WriteUInt32BigEndian(_buffer[_position..], value);
            _position += 4;
        }

        EndArray(start, values.Length);
    }

    public void WriteULongArray(scoped ReadOnlySpan<ulong> values)
    {
        int start = BeginArray(AmqpFormatCode.ULong, values.Length * 8);
        foreach (ulong value in values)
        {
            BinaryPrimitives.WriteUInt64BigEndian(_buffer[_position..], value);
            _position += 8;
        }

        EndArray(start, values.Length);
    }

    public void WriteIntArray(scoped ReadOnlySpan<int> values)
    {
        int start = BeginArray(AmqpFormatCode.Int, values.Length * 4);
        foreach (int value in values)
        {
            BinaryPrimitives.WriteInt32BigEndian(_buffer[_position..], value);
            _position += 4;
        }

        EndArray(start, values.Length);
    }

    public void WriteLongArray(scoped ReadOnlySpan<long> values)
    {
        int start = BeginArray(AmqpFormatCode.Long, values.Length * 8);
        foreach (long value in values)
        {
            BinaryPrimitives.WriteInt64BigEndian(_buffer[_position..], value);
            _position += 8;
        }

        EndArray(start, values.Length);
    }

    public void WriteUuidArray(scoped ReadOnlySpan<Guid> values)
    {
        int start = BeginArray(AmqpFormatCode.Uuid, values.Length * 16);
        foreach (Guid value in values)
        {
            value.TryWriteBytes(_buffer.Slice(_position, 16), bigEndian: true, out _);
            _position += 16;
        }

        EndArray(start, values.Length);
    }

    /// <summary>Writes an array of strings (str8 elements, or str32 when one is longer than 255 bytes).</summary>
    public void WriteStringArray(params ReadOnlySpan<string> values)
    {
        bool wide = false;
        int total = 0;
        foreach (string value in values)
        {
            ArgumentNullException.ThrowIfNull(value);
            int length = Encoding.UTF8.GetByteCount(value);
            wide |= length > byte.MaxValue;
            total += length;
        }

        int elementHeader = wide ? 4 : 1;
        int start = BeginArray(wide ? AmqpFormatCode.String32 : AmqpFormatCode.String8, total + (values.Length * elementHeader));
        foreach (string value in values)
        {
            Span<byte> span = _buffer[_position..];
            int length = Encoding.UTF8.GetBytes(value, span[elementHeader..]);
            if (wide)
            {
                BinaryPrimitives.WriteInt32BigEndian(span, length);
            }
            else
            {
                span[0] = (byte)length;
            }

            _position += elementHeader + length;
        }

        EndArray(start, values.Length);
    }

    /// <summary>Reserves an array32 header plus the element constructor and <paramref name="elementBytes"/>.</summary>
    private int BeginArray(byte elementCode, int elementBytes)
    {
        Ensure(CompoundHeaderSize + 1 + elementBytes);
        int start = _position;
        _buffer[start + CompoundHeaderSize] = elementCode;
        _position += CompoundHeaderSize + 1;
        return start;
    }

    private void EndArray(int start, int count)
    {
        Close(start, _position - start - CompoundHeaderSize, count, AmqpFormatCode.Array8, AmqpFormatCode.Array32);
        Advance(0);
    }

    /// <summary>Fills in a compound header reserved at <paramref name="start"/>, moving the content down for the 8-bit form.</summary>
    private void Close(int start, int contentLength, int count, byte code8, byte code32)
    {
        if (contentLength + 1 <= byte.MaxValue && count <= byte.MaxValue)
        {
            _buffer[start] = code8;
            _buffer[start + 1] = (byte)(contentLength + 1);
            _buffer[start + 2] = (byte)count;
            _buffer.Slice(start + CompoundHeaderSize, contentLength).CopyTo(_buffer[(start + 3)..]);
            _position = start + 3 + contentLength;
        }
        else
        {
            _buffer[start] = code32;
            BinaryPrimitives.WriteInt32BigEndian(_buffer[(start + 1)..], contentLength + 4);
            BinaryPrimitives.WriteInt32BigEndian(_buffer[(start + 5)..], count);
        }
    }

    private void Push(CompoundKind kind)
    {
        if (_depth == MaxDepth)
        {
            throw new InvalidOperationException("Compounds are nested too deeply.");
        }

        Ensure(CompoundHeaderSize);
        _stack[_depth++] = new Compound { Kind = kind, Start = _position, LastNonNullEnd = _position + CompoundHeaderSize };
        _position += CompoundHeaderSize;
    }

    private Compound Pop(CompoundKind kind, CompoundKind alternative)
    {
        if (_depth == 0 || (_stack[_depth - 1].Kind != kind && _stack[_depth - 1].Kind != alternative))
        {
            throw new InvalidOperationException($"No open {kind} to end.");
        }

        return _stack[--_depth];
    }

    private void WriteVariable(byte code8, byte code32, scoped ReadOnlySpan<byte> value)
    {
        int header = value.Length <= byte.MaxValue ? 2 : 5;
        Span<byte> span = Ensure(header + value.Length);
        WriteVariableHeader(span, code8, code32, value.Length);
        value.CopyTo(span[header..]);
        Advance(header + value.Length);
    }

    private static void WriteVariableHeader(Span<byte> span, byte code8, byte code32, int length)
    {
        if (length <= byte.MaxValue)
        {
            span[0] = code8;
            span[1] = (byte)length;
        }
        else
        {
            span[0] = code32;
            BinaryPrimitives.WriteInt32BigEndian(span[1..], length);
        }
    }

    /// <summary>Moves past a value just written and counts it as an element of the enclosing compound.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private void Advance(int length, bool isNull = false)
    {
        _position += length;
        if (_depth > 0)
        {
            ref Compound top = ref _stack[_depth - 1];
            if (top.Kind == CompoundKind.Region)
            {
                return;
            }

            top.Count++;
            if (!isNull)
            {
                top.LastNonNullEnd = _position;
                top.LastNonNullCount = top.Count;
            }
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private Span<byte> Ensure(int length)
    {
        if (_buffer.Length - _position < length)
        {
            Grow(length);
        }

        return _buffer[_position..];
    }

    private void Grow(int length)
    {
        if (_output is null)
        {
            throw new InvalidOperationException("The buffer is too small for the value.");
        }

        if (_depth == 0)
        {
            // Nothing needs to stay contiguous: hand over what is written and start a new block.
            _output.Advance(_position);
            _position = 0;
            _buffer = _output.GetSpan(Math.Max(length, MinimumBlock));
            return;
        }

        // An open compound must stay in one block: keep its bytes aside while asking for a bigger one.
        int needed = _position + length;
        byte[] saved = ArrayPool<byte>.Shared.Rent(_position);
        try
        {
            _buffer[.._position].CopyTo(saved);
            _buffer = _output.GetSpan(Math.Max(needed, _buffer.Length * 2));
            saved.AsSpan(0, _position).CopyTo(_buffer);
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(saved);
        }
    }

    private enum CompoundKind : byte
    {
        Region,
        List,
        TrimmedList,
        Map,
    }

    private struct Compound
    {
        public CompoundKind Kind;
        public int Start;
        public int Count;
        public int LastNonNullEnd;
        public int LastNonNullCount;
    }

    [InlineArray(MaxDepth)]
    private struct CompoundStack
    {
        private Compound _element;
    }
}
