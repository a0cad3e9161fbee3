using System.Buffers;
using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using Broker.Core.Registry;

namespace Broker.Core.Security;

/// <summary>
/// A parsed SAS token, <c>SharedAccessSignature sr={resource}&amp;sig={signature}&amp;se={expiry}[&amp;skn={policy}]</c>,
/// as views over the token text. Fields come in any order. The signature is checked over <c>sr</c> exactly as
/// sent (SDKs differ in which characters they escape and in the case of the hex digits), and <c>sr</c> is
/// decoded only to decide what the token may access. Nothing here allocates.
/// </summary>
public readonly ref struct SharedAccessSignature
{
    /// <summary>The clock skew allowed past <c>se</c>, as IoT Hub's SDKs allow.</summary>
    public static readonly TimeSpan MaxClockSkew = TimeSpan.FromMinutes(5);

    /// <summary>Tokens longer than this are refused without further work.</summary>
    public const int MaxTokenLength = 4096;

    private const string Scheme = "SharedAccessSignature";
    private const int StackLimit = 512;
    private const int SignatureBytes = 32; // HMAC-SHA256

    private SharedAccessSignature(ReadOnlySpan<char> resource, ReadOnlySpan<char> signature, ReadOnlySpan<char> expiry, ReadOnlySpan<char> keyName)
    {
        Resource = resource;
        Signature = signature;
        Expiry = expiry;
        KeyName = keyName;
    }

    /// <summary>The <c>sr</c> field as sent (still URL-encoded); the signed text.</summary>
    public ReadOnlySpan<char> Resource { get; }

    /// <summary>The <c>sig</c> field as sent (URL-encoded base64).</summary>
    public ReadOnlySpan<char> Signature { get; }

    /// <summary>The <c>se</c> field as sent (Unix seconds).</summary>
    public ReadOnlySpan<char> Expiry { get; }

    /// <summary>The <c>skn</c> field as sent, empty when the token is signed with an identity's own key.</summary>
    public ReadOnlySpan<char> KeyName { get; }

    /// <summary>Whether the token names a policy (<c>skn</c>).</summary>
    public bool HasKeyName => !KeyName.IsEmpty;

    /// <summary>
    /// Parses a token. Like the C# SDK, the text (trimmed) must be the word <c>SharedAccessSignature</c>, white
    /// space, then one <c>&amp;</c>-separated field string; <c>sr</c>, <c>sig</c> and <c>se</c> are required,
    /// duplicates are refused and unknown fields ignored.
    /// </summary>
    public static bool TryParse(ReadOnlySpan<char> token, out SharedAccessSignature signature)
    {
        signature = default;
        token = token.Trim();
        if (token.Length > MaxTokenLength || !token.StartsWith(Scheme, StringComparison.Ordinal))
        {
            return false;
        }

        var fields = token[Scheme.Length..];
        var trimmed = fields.TrimStart();
        if (trimmed.Length == fields.Length || trimmed.ContainsAny(" \t\r\n"))
        {
            return false;
        }

        ReadOnlySpan<char> resource = default, sig = default, expiry = default, keyName = default;
        bool hasResource = false, hasSig = false, hasExpiry = false, hasKeyName = false;
        foreach (var range in trimmed.Split('&'))
        {
            var field = trimmed[range];
            if (field.IsEmpty)
            {
                continue;
            }

            int equals = field.IndexOf('=');
            if (equals <= 0)
            {
                return false;
            }

            var name = field[..equals];
            var value = field[(equals + 1)..];
            bool ok = name switch
            {
                "sr" => Take(value, ref resource, ref hasResource),
                "sig" => Take(value, ref sig, ref hasSig),
                "se" => Take(value, ref expiry, ref hasExpiry),
                "skn" => Take(value, ref keyName, ref hasKeyName),
                _ => true,
            };
            if (!ok)
            {
                return false;
            }
        }

        if (resource.IsEmpty || sig.IsEmpty || expiry.IsEmpty)
        {
            return false;
        }

        signature = new SharedAccessSignature(resource, sig, expiry, keyName);
        return true;
    }

    private static bool Take(ReadOnlySpan<char> value, ref ReadOnlySpan<char> slot, ref bool seen)
    {
        if (seen)
        {
            return false;
        }

        seen = true;
        slot = value;
        return true;
    }

    /// <summary>The expiry (<c>se</c>); false if it is not a number of seconds.</summary>
    public bool TryGetExpiry(out DateTimeOffset expiresAt)
    {
        expiresAt = default;
        if (!double.TryParse(Expiry, NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture, out double seconds) || !double.IsFinite(seconds))
        {
            return false;
        }

        const double maxSeconds = 253402300799; // 9999-12-31T23:59:59Z
        expiresAt = DateTimeOffset.FromUnixTimeSeconds((long)Math.Min(Math.Floor(seconds), maxSeconds));
        return true;
    }

    /// <summary>Whether the token is past its expiry plus <see cref="MaxClockSkew"/> at <paramref name="now"/> (an unreadable expiry counts as expired).</summary>
    public bool IsExpired(DateTimeOffset now)
        => !TryGetExpiry(out var expiresAt) || expiresAt + MaxClockSkew < now;

    /// <summary>
    /// Whether <c>sig</c> is the HMAC-SHA256, under the base64-decoded <paramref name="primaryKey"/> or
    /// <paramref name="secondaryKey"/>, of the raw <c>sr</c> text, a line feed and the raw <c>se</c> text.
    /// The comparison takes constant time.
    /// </summary>
    public bool IsSignedWithEither(string? primaryKey, string? secondaryKey)
    {
        Span<byte> presented = stackalloc byte[SignatureBytes + 3];
        if (!TryDecodeSignature(presented, out int presentedLength) || presentedLength != SignatureBytes)
        {
            return false;
        }

        presented = presented[..SignatureBytes];
        int signedLength = Encoding.UTF8.GetMaxByteCount(Resource.Length + 1 + Expiry.Length);
        byte[]? rented = signedLength > StackLimit ? ArrayPool<byte>.Shared.Rent(signedLength) : null;
        try
        {
            Span<byte> signed = rented is null ? stackalloc byte[StackLimit] : rented;
            int length = Encoding.UTF8.GetBytes(Resource, signed);
            signed[length++] = (byte)'\n';
            length += Encoding.UTF8.GetBytes(Expiry, signed[length..]);
            signed = signed[..length];

            // Both keys are tried, so timing says nothing about which one matched.
            bool primary = Matches(primaryKey, signed, presented);
            bool secondary = Matches(secondaryKey, signed, presented);
            return primary | secondary;
        }
        finally
        {
            if (rented is not null)
            {
                ArrayPool<byte>.Shared.Return(rented);
            }
        }
    }

    private static bool Matches(string? base64Key, ReadOnlySpan<byte> signed, ReadOnlySpan<byte> presented)
    {
        Span<byte> key = stackalloc byte[IdentityRules.MaxKeyBytes + 3];
        if (string.IsNullOrEmpty(base64Key) || !Convert.TryFromBase64String(base64Key, key, out int keyLength) || keyLength == 0)
        {
            return false;
        }

        Span<byte> computed = stackalloc byte[SignatureBytes];
        HMACSHA256.HashData(key[..keyLength], signed, computed);
        CryptographicOperations.ZeroMemory(key);
        return CryptographicOperations.FixedTimeEquals(computed, presented);
    }

    private bool TryDecodeSignature(Span<byte> destination, out int written)
    {
        written = 0;
        if (Signature.Length > 128)
        {
            return false;
        }

        Span<char> text = stackalloc char[Signature.Length];
        return PercentDecoding.TryDecode(Signature, text, out int length)
            && Convert.TryFromBase64Chars(text[..length], destination, out written);
    }

    /// <summary>
    /// Whether the decoded <c>sr</c> gives access to <paramref name="target"/>, an unencoded
    /// <c>{host}/devices/{id}[/modules/{mid}]</c> (or any other <c>/</c>-separated path). With
    /// <paramref name="exact"/> the resource must name the target itself (identity-key tokens); otherwise it may
    /// be any path-segment prefix of it (<c>{host}</c> and <c>{host}/devices</c> cover every device; <c>/a/b</c>
    /// covers <c>/a/b/c</c>, not <c>/a/bc</c>). Segments compare case-insensitively, as IoT Hub's own
    /// <c>Authorize</c> does; a segment that still holds escapes after decoding is also compared decoded again,
    /// because the C# SDK escapes ids before escaping the whole resource.
    /// </summary>
    public bool Covers(ReadOnlySpan<char> target, bool exact)
    {
        char[]? rented = Resource.Length > StackLimit ? ArrayPool<char>.Shared.Rent(Resource.Length) : null;
        try
        {
            Span<char> decoded = rented is null ? stackalloc char[StackLimit] : rented;
            if (!PercentDecoding.TryDecode(Resource, decoded, out int length))
            {
                return false;
            }

            return PathCovers(decoded[..length].TrimEnd('/'), target.TrimEnd('/'), exact);
        }
        finally
        {
            if (rented is not null)
            {
                ArrayPool<char>.Shared.Return(rented);
            }
        }
    }

    private static bool PathCovers(ReadOnlySpan<char> resource, ReadOnlySpan<char> target, bool exact)
    {
        while (true)
        {
            int resourceSlash = resource.IndexOf('/');
            int targetSlash = target.IndexOf('/');
            var resourceSegment = resourceSlash < 0 ? resource : resource[..resourceSlash];
            var targetSegment = targetSlash < 0 ? target : target[..targetSlash];
            if (!SegmentMatches(resourceSegment, targetSegment))
            {
                return false;
            }

            if (resourceSlash < 0)
            {
                return !exact || targetSlash < 0;
            }

            if (targetSlash < 0)
            {
                return false; // the resource is narrower than the target
            }

            resource = resource[(resourceSlash + 1)..];
            target = target[(targetSlash + 1)..];
        }
    }

    private static bool SegmentMatches(ReadOnlySpan<char> segment, ReadOnlySpan<char> expected)
    {
        if (segment.Equals(expected, StringComparison.OrdinalIgnoreCase))
        {
            return true;
        }

        if (segment.IndexOf('%') < 0 || segment.Length > IdentityRules.MaxIdLength * 3)
        {
            return false;
        }

        Span<char> decoded = stackalloc char[segment.Length];
        return PercentDecoding.TryDecode(segment, decoded, out int length)
            && decoded[..length].Equals(expected, StringComparison.OrdinalIgnoreCase);
    }
}
