using System.Buffers;

namespace Broker.Core.Registry;

/// <summary>
/// IoT Hub's rules for ids, keys and thumbprints. Ids are case-sensitive, 1 to 128 characters of ASCII letters,
/// digits and <c>- . + % _ # * ? ! ( ) , : = @ $ '</c> (<c>:</c> is in the newer documentation only; accepting
/// it costs nothing because no separator of ours uses it). Device ids never contain <c>/</c>, which is why the
/// registry can key modules as <c>{deviceId}/{moduleId}</c>.
/// </summary>
public static class IdentityRules
{
    /// <summary>The longest device or module id.</summary>
    public const int MaxIdLength = 128;

    /// <summary>The longest <c>statusReason</c>.</summary>
    public const int MaxStatusReasonLength = 128;

    /// <summary>The shortest symmetric key, in decoded bytes.</summary>
    public const int MinKeyBytes = 16;

    /// <summary>The longest symmetric key, in decoded bytes.</summary>
    public const int MaxKeyBytes = 64;

    private const string Punctuation = "-.+%_#*?!(),:=@$'";

    private static readonly SearchValues<char> HexDigits = SearchValues.Create("0123456789abcdefABCDEF");

    /// <summary>Whether <paramref name="id"/> is a valid device id.</summary>
    public static bool IsValidDeviceId(ReadOnlySpan<char> id) => IsValidId(id);

    /// <summary>Whether <paramref name="id"/> is a valid module id (same rules as device ids).</summary>
    public static bool IsValidModuleId(ReadOnlySpan<char> id) => IsValidId(id);

    private static bool IsValidId(ReadOnlySpan<char> id)
    {
        if (id.IsEmpty || id.Length > MaxIdLength)
        {
            return false;
        }

        foreach (char c in id)
        {
            if (!char.IsAsciiLetterOrDigit(c) && !Punctuation.Contains(c, StringComparison.Ordinal))
            {
                return false;
            }
        }

        return true;
    }

    /// <summary>Whether <paramref name="key"/> is base64 of <see cref="MinKeyBytes"/> to <see cref="MaxKeyBytes"/> bytes.</summary>
    public static bool IsValidSymmetricKey(ReadOnlySpan<char> key)
    {
        Span<byte> decoded = stackalloc byte[MaxKeyBytes + 3];
        return Convert.TryFromBase64Chars(key, decoded, out int length) && length is >= MinKeyBytes and <= MaxKeyBytes;
    }

    /// <summary>Whether <paramref name="thumbprint"/> is 40 (SHA-1) or 64 (SHA-256) hex digits, any case.</summary>
    public static bool IsValidThumbprint(ReadOnlySpan<char> thumbprint)
        => thumbprint.Length is 40 or 64 && !thumbprint.ContainsAnyExcept(HexDigits);
}
