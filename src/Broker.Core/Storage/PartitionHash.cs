using System.Text;

namespace Broker.Core.Storage;

/// <summary>
/// The documented, stable mapping of a device id to a partition: FNV-1a (32-bit) over the UTF-8 bytes of
/// the device id, modulo the partition count. It never changes, because stored data is laid out by it.
/// </summary>
public static class PartitionHash
{
    private const uint OffsetBasis = 2166136261;
    private const uint Prime = 16777619;

    /// <summary>The partition index of <paramref name="deviceId"/> among <paramref name="partitionCount"/>.</summary>
    public static int PartitionOf(string deviceId, int partitionCount)
    {
        ArgumentNullException.ThrowIfNull(deviceId);
        ArgumentOutOfRangeException.ThrowIfLessThan(partitionCount, 1);
        Span<byte> buffer = stackalloc byte[256];
        int byteCount = Encoding.UTF8.GetMaxByteCount(deviceId.Length) <= buffer.Length
            ? Encoding.UTF8.GetBytes(deviceId, buffer)
            : -1;
        return byteCount >= 0
            ? PartitionOf(buffer[..byteCount], partitionCount)
            : PartitionOf(Encoding.UTF8.GetBytes(deviceId), partitionCount);
    }

    /// <summary>The partition index of a device id given as UTF-8 bytes.</summary>
    public static int PartitionOf(ReadOnlySpan<byte> deviceIdUtf8, int partitionCount)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(partitionCount, 1);
        uint hash = OffsetBasis;
        foreach (byte b in deviceIdUtf8)
        {
            hash = (hash ^ b) * Prime;
        }

        return (int)(hash % (uint)partitionCount);
    }
}
