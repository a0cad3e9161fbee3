using System.Globalization;
using System.Security.Cryptography;
using System.Text;

namespace Broker.Core.Security;

/// <summary>
/// Builds SAS tokens the way the Azure IoT SDKs do: <c>sr</c> = the URL-encoded resource (not lower-cased; no SDK
/// lower-cases ids), <c>sig</c> = URL-encoded base64 HMAC-SHA256 of <c>sr + "\n" + se</c> under the decoded key,
/// <c>se</c> = Unix seconds, fields in the C# SDK's order <c>sr, sig, se[, skn]</c>.
/// </summary>
public static class SasTokenBuilder
{
    /// <summary>The resource a device or module token is for: <c>{host}/devices/{id}[/modules/{mid}]</c>, unencoded.</summary>
    public static string ResourceFor(string hostName, string deviceId, string? moduleId = null)
        => moduleId is null ? $"{hostName}/devices/{deviceId}" : $"{hostName}/devices/{deviceId}/modules/{moduleId}";

    /// <summary>A token for <paramref name="resource"/> (unencoded; it is URL-encoded here) signed with <paramref name="base64Key"/>.</summary>
    public static string Create(string resource, string base64Key, DateTimeOffset expiresAt, string? keyName = null)
    {
        ArgumentNullException.ThrowIfNull(resource);
        return CreateWithEncodedResource(Uri.EscapeDataString(resource), base64Key, expiresAt.ToUnixTimeSeconds(), keyName);
    }

    /// <summary>A token whose <c>sr</c> is <paramref name="encodedResource"/> verbatim (to reproduce any SDK's escaping).</summary>
    public static string CreateWithEncodedResource(string encodedResource, string base64Key, long expiry, string? keyName = null)
    {
        ArgumentNullException.ThrowIfNull(encodedResource);
        ArgumentNullException.ThrowIfNull(base64Key);
        var se = expiry.ToString(CultureInfo.InvariantCulture);
        var signature = Sign(encodedResource, se, base64Key);
        var token = new StringBuilder("SharedAccessSignature sr=")
            .Append(encodedResource)
            .Append("&sig=").Append(Uri.EscapeDataString(signature))
            .Append("&se=").Append(se);
        if (keyName is not null)
        {
            token.Append("&skn=").Append(Uri.EscapeDataString(keyName));
        }

        return token.ToString();
    }

    /// <summary>The base64 HMAC-SHA256 of <c>{encodedResource}\n{expiry}</c> under the base64-decoded key.</summary>
    public static string Sign(string encodedResource, string expiry, string base64Key)
    {
        var key = Convert.FromBase64String(base64Key);
        var mac = HMACSHA256.HashData(key, Encoding.UTF8.GetBytes(encodedResource + "\n" + expiry));
        return Convert.ToBase64String(mac);
    }
}
