using System.Buffers;
using System.Buffers.Binary;
using System.Text;
using Broker.Core.Hub;
using Broker.Core.Security;

namespace Broker.Core.Telemetry;

/// <summary>
/// The body of a telemetry event in the events log (version 1):
/// version (1) | flags (1) | auth method (1) | reserved (1) | device id (u16 length + UTF-8) | module id (u16 + UTF-8)
/// | generation id (u16 + UTF-8) | property bag (u32 length + the URL-encoded bag as the device sent it) | payload.
/// Sequence number and enqueued time are stamped by the log itself.
/// </summary>
public static class TelemetryEventCodec
{
    private const byte Version = 1;

    /// <summary>The identity part of every event of one connection, encoded once per connection.</summary>
    public static byte[] EncodeIdentity(DeviceContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        var writer = new ArrayBufferWriter<byte>(64);
        var header = writer.GetSpan(4);
        header[0] = Version;
        header[1] = 0;
        header[2] = (byte)context.AuthMethod;
        header[3] = 0;
        writer.Advance(4);
        WriteString(writer, context.DeviceId);
        WriteString(writer, context.ModuleId ?? "");
        WriteString(writer, context.GenerationId ?? "");
        return writer.WrittenSpan.ToArray();
    }

    /// <summary>The size of the event body <see cref="Write"/> produces.</summary>
    public static int EncodedLength(int identityLength, int propertyBagLength, long payloadLength)
        => checked(identityLength + 4 + propertyBagLength + (int)payloadLength);

    /// <summary>Writes one event body: the connection's identity, the property bag and the payload.</summary>
    public static void Write(IBufferWriter<byte> destination, ReadOnlySpan<byte> identity, ReadOnlySpan<byte> propertyBag, in ReadOnlySequence<byte> payload)
    {
        ArgumentNullException.ThrowIfNull(destination);
        int length = EncodedLength(identity.Length, propertyBag.Length, payload.Length);
        var span = destination.GetSpan(length);
        identity.CopyTo(span);
        int offset = identity.Length;
        BinaryPrimitives.WriteInt32LittleEndian(span[offset..], propertyBag.Length);
        offset += 4;
        propertyBag.CopyTo(span[offset..]);
        offset += propertyBag.Length;
        payload.CopyTo(span[offset..]);
        destination.Advance(length);
    }

    /// <summary>Reads an event body; false if it is not a version-1 telemetry event.</summary>
    public static bool TryRead(ReadOnlySpan<byte> body, out TelemetryEventView view)
    {
        view = default;
        if (body.Length < 4 || body[0] != Version)
        {
            return false;
        }

        var authMethod = (AuthMethod)body[2];
        int offset = 4;
        if (!TryReadString(body, ref offset, out var deviceId)
            || !TryReadString(body, ref offset, out var moduleId)
            || !TryReadString(body, ref offset, out var generationId)
            || body.Length - offset < 4)
        {
            return false;
        }

        int bagLength = BinaryPrimitives.ReadInt32LittleEndian(body[offset..]);
        offset += 4;
        if (bagLength < 0 || bagLength > body.Length - offset)
        {
            return false;
        }

        view = new TelemetryEventView(deviceId, moduleId, generationId, authMethod, body.Slice(offset, bagLength), body[(offset + bagLength)..]);
        return true;
    }

    private static void WriteString(ArrayBufferWriter<byte> writer, string value)
    {
        int length = Encoding.UTF8.GetByteCount(value);
        var span = writer.GetSpan(2 + length);
        BinaryPrimitives.WriteUInt16LittleEndian(span, (ushort)length);
        Encoding.UTF8.GetBytes(value, span[2..]);
        writer.Advance(2 + length);
    }

    private static bool TryReadString(ReadOnlySpan<byte> body, scoped ref int offset, out ReadOnlySpan<byte> value)
    {
        value = default;
        if (body.Length - offset < 2)
        {
            return false;
        }

        int length = BinaryPrimitives.ReadUInt16LittleEndian(body[offset..]);
        offset += 2;
        if (length > body.Length - offset)
        {
            return false;
        }

        value = body.Slice(offset, length);
        offset += length;
        return true;
    }
}
