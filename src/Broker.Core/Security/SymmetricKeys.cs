using System.Security.Cryptography;

namespace Broker.Core.Security;

/// <summary>Generates the base64 symmetric keys of identities and policies.</summary>
public static class SymmetricKeys
{
    /// <summary>The size of a generated key, as IoT Hub generates them.</summary>
    public const int GeneratedKeyBytes = 32;

    /// <summary>A new random 32-byte key, base64.</summary>
    public static string Generate()
    {
        Span<byte> key = stackalloc byte[GeneratedKeyBytes];
        RandomNumberGenerator.Fill(key);
        return Convert.ToBase64String(key);
    }
}
