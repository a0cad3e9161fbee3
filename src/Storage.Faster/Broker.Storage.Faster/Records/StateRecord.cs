using System.Buffers.Binary;
using Broker.Core.Storage;
using FASTER.core;

namespace Broker.Storage.Faster.Records;

/// <summary>
/// The framing of one redo record in the state log:
/// magic (4) | crc32c of everything after it (4) | op (1) | kind (1) | key length (2) | value length (4) | key | value.
/// </summary>
internal static class StateRecord
{
    public const int HeaderSize = 16;
    public const uint Magic = 0x31545342; // "BST1"
    public const int MaxKeyLength = ushort.MaxValue - 1;

    public static bool TryParse(ReadOnlySpan<byte> record, out StateOp op, out StateRecordKind kind, out ReadOnlySpan<byte> key, out ReadOnlySpan<byte> value)
    {
        op = default;
        kind = default;
        key = default;
        value = default;
        if (record.Length < HeaderSize || BinaryPrimitives.ReadUInt32LittleEndian(record) != Magic)
        {
            return false;
        }

        int keyLength = BinaryPrimitives.ReadUInt16LittleEndian(record[10..]);
        int valueLength = BinaryPrimitives.ReadInt32LittleEndian(record[12..]);
        if (valueLength < 0 || HeaderSize + keyLength + valueLength != record.Length
            || BinaryPrimitives.ReadUInt32LittleEndian(record[4..]) != Crc32C.Compute(record[8..]))
        {
            return false;
        }

        op = (StateOp)record[8];
        kind = (StateRecordKind)record[9];
        key = record.Slice(HeaderSize, keyLength);
        value = record.Slice(HeaderSize + keyLength, valueLength);
        return op is StateOp.Upsert or StateOp.Delete;
    }
}

/// <summary>What a redo record does.</summary>
internal enum StateOp : byte
{
    Upsert = 1,
    Delete = 2,
}

/// <summary>A redo record built from spans pinned by the caller for the append.</summary>
internal readonly unsafe struct PinnedStateEntry : ILogEnqueueEntry
{
    private readonly byte* _key;
    private readonly byte* _value;
    private readonly int _keyLength;
    private readonly int _valueLength;
    private readonly StateOp _op;
    private readonly StateRecordKind _kind;

    public PinnedStateEntry(StateOp op, StateRecordKind kind, byte* key, int keyLength, byte* value, int valueLength)
    {
        _op = op;
        _kind = kind;
        _key = key;
        _keyLength = keyLength;
        _value = value;
        _valueLength = valueLength;
    }

    public int SerializedLength => StateRecord.HeaderSize + _keyLength + _valueLength;

    public void SerializeTo(Span<byte> dest)
    {
        BinaryPrimitives.WriteUInt32LittleEndian(dest, StateRecord.Magic);
        dest[8] = (byte)_op;
        dest[9] = (byte)_kind;
        BinaryPrimitives.WriteUInt16LittleEndian(dest[10..], (ushort)_keyLength);
        BinaryPrimitives.WriteInt32LittleEndian(dest[12..], _valueLength);
        new ReadOnlySpan<byte>(_key, _keyLength).CopyTo(dest[StateRecord.HeaderSize..]);
        new ReadOnlySpan<byte>(_value, _valueLength).CopyTo(dest[(StateRecord.HeaderSize + _keyLength)..]);
        var record = dest[..SerializedLength];
        BinaryPrimitives.WriteUInt32LittleEndian(record[4..], Crc32C.Compute(record[8..]));
    }
}
