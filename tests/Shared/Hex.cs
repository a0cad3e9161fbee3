namespace Broker.Testing;

internal static class Hex
{
    /// <summary>Parses "30 0A 00" style hex (spaces optional).</summary>
    public static byte[] Parse(string hex) => Convert.FromHexString(hex.Replace(" ", string.Empty, StringComparison.Ordinal));

    public static string Format(ReadOnlySpan<byte> bytes) => Convert.ToHexString(bytes);
}
