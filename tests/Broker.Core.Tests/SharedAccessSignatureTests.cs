using System.Net;
using Broker.Core.Security;

namespace Broker.Core.Tests;

public sealed class SharedAccessSignatureTests
{
    private static readonly string Key = Convert.ToBase64String(Enumerable.Range(1, 32).Select(i => (byte)i).ToArray());
    private static readonly string OtherKey = Convert.ToBase64String(new byte[32]);

    [Theory]
    [InlineData("SharedAccessSignature sr=hub%2Fdevices%2Fd&sig=abc%3D&se=100")]
    [InlineData("SharedAccessSignature sig=abc%3D&se=100&sr=hub%2Fdevices%2Fd")]
    [InlineData("SharedAccessSignature se=100&skn=&sr=hub%2Fdevices%2Fd&sig=abc%3D")]
    [InlineData("  SharedAccessSignature   sr=hub%2Fdevices%2Fd&sig=abc%3D&se=100&unknown=1  ")]
    public void TryParse_AnyFieldOrder_ReadsRawFields(string token)
    {
        Assert.True(SharedAccessSignature.TryParse(token, out var sas));
        Assert.Equal("hub%2Fdevices%2Fd", sas.Resource.ToString());
        Assert.Equal("abc%3D", sas.Signature.ToString());
        Assert.Equal("100", sas.Expiry.ToString());
        Assert.False(sas.HasKeyName);
    }

    [Theory]
    [InlineData("")]
    [InlineData("sr=a&sig=b&se=1")] // no scheme
    [InlineData("SharedAccessSignaturesr=a&sig=b&se=1")]
    [InlineData("SharedAccessSignature sr=a&sig=b")] // no se
    [InlineData("SharedAccessSignature sig=b&se=1")] // no sr
    [InlineData("SharedAccessSignature sr=a&se=1")] // no sig
    [InlineData("SharedAccessSignature sr=a&sr=a&sig=b&se=1")] // duplicate
    [InlineData("SharedAccessSignature sr=a&sig=b&se=1 extra")] // more than one field string
    [InlineData("SharedAccessSignature sr=a&=b&sig=b&se=1")]
    public void TryParse_Malformed_False(string token) => Assert.False(SharedAccessSignature.TryParse(token, out _));

    [Fact]
    public void TryParse_TooLong_False()
        => Assert.False(SharedAccessSignature.TryParse("SharedAccessSignature sr=" + new string('a', 5000) + "&sig=b&se=1", out _));

    [Fact]
    public void IsSignedWithEither_BuilderToken_PrimaryOrSecondary()
    {
        var token = SasTokenBuilder.Create("hub/devices/d", Key, DateTimeOffset.FromUnixTimeSeconds(2_000_000_000));
        Assert.True(SharedAccessSignature.TryParse(token, out var sas));
        Assert.True(sas.IsSignedWithEither(Key, OtherKey));
        Assert.True(sas.IsSignedWithEither(OtherKey, Key));
        Assert.True(sas.IsSignedWithEither(null, Key));
        Assert.False(sas.IsSignedWithEither(OtherKey, null));
        Assert.False(sas.IsSignedWithEither("not base64", ""));
    }

    [Fact]
    public void IsSignedWithEither_SignatureOverRawSr_NotReEncoded()
    {
        // Lower-case escapes as in the docs' samples: re-encoding would produce %2F and break the signature.
        var token = SasTokenBuilder.CreateWithEncodedResource("hub%2fdevices%2fd", Key, 2_000_000_000);
        Assert.True(SharedAccessSignature.TryParse(token, out var sas));
        Assert.True(sas.IsSignedWithEither(Key, null));

        var reencoded = token.Replace("hub%2fdevices%2fd", "hub%2Fdevices%2Fd", StringComparison.Ordinal);
        Assert.True(SharedAccessSignature.TryParse(reencoded, out sas));
        Assert.False(sas.IsSignedWithEither(Key, null));
    }

    [Fact]
    public void IsSignedWithEither_TamperedExpiry_False()
    {
        var token = SasTokenBuilder.CreateWithEncodedResource("hub%2Fdevices%2Fd", Key, 2_000_000_000);
        Assert.True(SharedAccessSignature.TryParse(token.Replace("se=2000000000", "se=2000000001", StringComparison.Ordinal), out var sas));
        Assert.False(sas.IsSignedWithEither(Key, null));
    }

    [Fact]
    public void IsSignedWithEither_SignatureWithRawBase64Characters_Accepted()
    {
        // Some hand-made tokens leave '+', '/' and '=' of the signature unescaped.
        var signature = SasTokenBuilder.Sign("hub%2Fdevices%2Fd", "2000000000", Key);
        Assert.True(SharedAccessSignature.TryParse($"SharedAccessSignature sr=hub%2Fdevices%2Fd&sig={signature}&se=2000000000", out var sas));
        Assert.True(sas.IsSignedWithEither(Key, null));
    }

    [Theory]
    [InlineData(0, false)]
    [InlineData(299, false)]
    [InlineData(300, false)] // exactly at the skew limit
    [InlineData(301, true)]
    public void IsExpired_FiveMinutesSkew(int secondsPastExpiry, bool expired)
    {
        Assert.True(SharedAccessSignature.TryParse("SharedAccessSignature sr=a&sig=b&se=1000", out var sas));
        Assert.Equal(expired, sas.IsExpired(DateTimeOffset.FromUnixTimeSeconds(1000 + secondsPastExpiry)));
    }

    [Theory]
    [InlineData("abc")]
    [InlineData("-5")]
    [InlineData("1e5")]
    public void IsExpired_UnreadableExpiry_True(string se)
    {
        Assert.True(SharedAccessSignature.TryParse($"SharedAccessSignature sr=a&sig=b&se={se}", out var sas));
        Assert.True(sas.IsExpired(DateTimeOffset.FromUnixTimeSeconds(0)));
    }

    [Theory]
    [InlineData("hub%2Fdevices%2Fd1", "hub/devices/d1", true, true)]
    [InlineData("hub/devices/d1", "hub/devices/d1", true, true)] // unencoded
    [InlineData("HUB%2fDevices%2fd1", "hub/devices/d1", true, true)] // docs' lower-case escapes, other host case
    [InlineData("hub%2Fdevices%2Fd1%2F", "hub/devices/d1", true, true)] // trailing slash
    [InlineData("hub%2Fdevices%2Fd2", "hub/devices/d1", true, false)]
    [InlineData("hub%2Fdevices%2Fd", "hub/devices/d1", false, false)] // not a segment prefix
    [InlineData("other%2Fdevices%2Fd1", "hub/devices/d1", true, false)]
    [InlineData("hub", "hub/devices/d1", false, true)]
    [InlineData("hub", "hub/devices/d1", true, false)]
    [InlineData("hub%2Fdevices", "hub/devices/d1/modules/m", false, true)]
    [InlineData("hub%2Fdevices%2Fd1", "hub/devices/d1/modules/m", false, true)]
    [InlineData("hub%2Fdevices%2Fd1", "hub/devices/d1/modules/m", true, false)]
    [InlineData("hub%2Fdevices%2Fd1%2Fmodules%2Fm", "hub/devices/d1", false, false)] // narrower than the target
    [InlineData("hub%2Fdevices%2Fa%2523b", "hub/devices/a#b", true, true)] // C# SDK: id escaped, then the whole resource
    [InlineData("hub%2Fdevices%2Fa%23b", "hub/devices/a#b", true, true)] // Node: escaped once
    [InlineData("hub%2Fdevices%2Fa%2525b", "hub/devices/a%25b", true, true)] // an id that really contains %25
    [InlineData("hub%2Fdevices%2Fa%2Bb", "hub/devices/a+b", true, true)]
    [InlineData("hub/devices/a+b", "hub/devices/a+b", true, true)] // '+' is not a space
    [InlineData("hub%2Fdevices%2Fd%C3%A9", "hub/devices/dé", true, false)]
    public void Covers_Table(string sr, string target, bool exact, bool covers)
    {
        Assert.True(SharedAccessSignature.TryParse($"SharedAccessSignature sr={sr}&sig=x&se=1", out var sas));
        Assert.Equal(covers, sas.Covers(target, exact));
    }

    [Fact]
    public void Verify_SecondCall_AllocatesNothing()
    {
        var token = SasTokenBuilder.Create("hub.example.net/devices/device-1", Key, DateTimeOffset.FromUnixTimeSeconds(2_000_000_000));
        var now = DateTimeOffset.FromUnixTimeSeconds(1_900_000_000);
        bool ok = true;
        long bytesPerCall = AllocationMeter.BytesPerCall(() => ok &= Verify(token, now));
        Assert.True(ok);
        Assert.Equal(0, bytesPerCall);
    }

    private static bool Verify(string token, DateTimeOffset now)
        => SharedAccessSignature.TryParse(token, out var sas)
            && sas.IsSignedWithEither(OtherKey, Key)
            && !sas.IsExpired(now)
            && sas.Covers("hub.example.net/devices/device-1", exact: true);

    [Fact]
    public void Create_Token_MatchesCSharpSdkShape()
    {
        var token = SasTokenBuilder.Create("hub.example.net/devices/dev1", Key, DateTimeOffset.FromUnixTimeSeconds(1_795_689_726), "device");
        Assert.StartsWith("SharedAccessSignature sr=hub.example.net%2Fdevices%2Fdev1&sig=", token, StringComparison.Ordinal);
        Assert.EndsWith("&se=1795689726&skn=device", token, StringComparison.Ordinal);

        // Same signature as computing it by hand with the documented algorithm.
        var expected = WebUtility.UrlEncode(SasTokenBuilder.Sign("hub.example.net%2Fdevices%2Fdev1", "1795689726", Key));
        Assert.Contains($"&sig={expected}&", token, StringComparison.OrdinalIgnoreCase);
    }
}
