using System.Runtime.InteropServices;

namespace Broker.Protocols.Mqtt.Tests.Support;

internal static class MemoryMarshalHelpers
{
    /// <summary>Whether <paramref name="memory"/> points into <paramref name="array"/> (no copy was made).</summary>
    public static bool IsSliceOf(ReadOnlyMemory<byte> memory, byte[] array)
        => MemoryMarshal.TryGetArray(memory, out ArraySegment<byte> segment) && ReferenceEquals(segment.Array, array);
}
