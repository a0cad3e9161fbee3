using System.Buffers;
using System.Buffers.Binary;
using FASTER.core;

namespace Broker.Storage.Faster.Records;

/// <summary>
/// The framing of one telemetry event in the events log:
/// magic (4) | crc32c of everything after it (4) | sequence (8) | enqueued UTC ticks (8) | body length (4) | reserved (4) | body.
/// </summary>
internal static class EventRecord
{
    public const int HeaderSize = 32;
    public const uint Magic = 0x31564542; // "BEV1"

    public static void WriteHeader(Span<byte> destination, long sequence, long enqueuedTicks, int bodyLength)
    {
        BinaryPrimitives.WriteUInt32LittleEndian(destination, Magic);
        BinaryPrimitives.WriteInt64LittleEndian(destination[8..], sequence);
        BinaryPrimitives.WriteInt64LittleEndian(destination[16..], enqueuedTicks);
        BinaryPrimitives.WriteInt32LittleEndian(destination[24..], bodyLength);
        BinaryPrimitives.WriteInt32LittleEndian(destination[28..], 0);
    }

    /// <summary>Stamps the checksum once header and body are in place.</summary>
    public static void Seal(Span<byte> record)
        => BinaryPrimitives.WriteUInt32LittleEndian(record[4..], Crc32C.Compute(record[8..]));

    /// <summary>Checks framing and checksum; false means the record is torn or corrupt.</summary>
    public static bool TryParse(ReadOnlySpan<byte> record, out long sequence, out long enqueuedTicks, out ReadOnlySpan<byte> body)
    {
        sequence = 0;
        enqueuedTicks = 0;
        body = default;
        if (record.Length < HeaderSize || BinaryPrimitives.ReadUInt32LittleEndian(record) != Magic)
        {
            return false;
        }

        int bodyLength = BinaryPrimitives.ReadInt32LittleEndian(record[24..]);
        if (bodyLength != record.Length - HeaderSize
            || BinaryPrimitives.ReadUInt32LittleEndian(record[4..]) != Crc32C.Compute(record[8..]))
        {
            return false;
        }

        sequence = BinaryPrimitives.ReadInt64LittleEndian(record[8..]);
        enqueuedTicks = BinaryPrimitives.ReadInt64LittleEndian(record[16..]);
        body = record[HeaderSize..];
        return true;
    }
}

/// <summary>An event whose body is one contiguous buffer; pinned by the caller for the append.</summary>
internal readonly unsafe struct PinnedEventEntry : ILogEnqueueEntry
{
    private readonly byte* _body;
    private readonly int _length;
    private readonly long _sequence;
    private readonly long _enqueuedTicks;

    public PinnedEventEntry(byte* body, int length, long sequence, long enqueuedTicks)
    {
        _body = body;
        _length = length;
        _sequence = sequence;
        _enqueuedTicks = enqueuedTicks;
    }

    public int SerializedLength => EventRecord.HeaderSize + _length;

    public void SerializeTo(Span<byte> dest)
    {
        EventRecord.WriteHeader(dest, _sequence, _enqueuedTicks, _length);
        new ReadOnlySpan<byte>(_body, _length).CopyTo(dest[EventRecord.HeaderSize..]);
        EventRecord.Seal(dest[..SerializedLength]);
    }
}

/// <summary>An event whose body spans several buffers, copied straight into the log page.</summary>
internal readonly struct SequenceEventEntry : ILogEnqueueEntry
{
    private readonly ReadOnlySequence<byte> _body;
    private readonly long _sequence;
    private readonly long _enqueuedTicks;

    public SequenceEventEntry(in ReadOnlySequence<byte> body, long sequence, long enqueuedTicks)
    {
        _body = body;
        _sequence = sequence;
        _enqueuedTicks = enqueuedTicks;
    }

    public int SerializedLength => EventRecord.HeaderSize + (int)_body.Length;

    public void SerializeTo(Span<byte> dest)
    {
        EventRecord.WriteHeader(dest, _sequence, _enqueuedTicks, (int)_body.Length);
        _body.CopyTo(dest[EventRecord.HeaderSize..]);
        EventRecord.Seal(dest[..SerializedLength]);
    }
}
