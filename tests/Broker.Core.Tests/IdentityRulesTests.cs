using Broker.Core.Registry;
using Broker.Core.Security;

namespace Broker.Core.Tests;

public sealed class IdentityRulesTests
{
    [Theory]
    [InlineData("d")]
    [InlineData("device-1")]
    [InlineData("Device.With_Mixed+Case")]
    [InlineData("all-punctuation-.+%_#*?!(),:=@$'")]
    [InlineData("0123456789")]
    public void IsValidDeviceId_AllowedCharacters_True(string id)
    {
        Assert.True(IdentityRules.IsValidDeviceId(id));
        Assert.True(IdentityRules.IsValidModuleId(id));
    }

    [Theory]
    [InlineData("")]
    [InlineData("has space")]
    [InlineData("slash/inside")]
    [InlineData("back\\slash")]
    [InlineData("quote\"")]
    [InlineData("amp&")]
    [InlineData("semi;colon")]
    [InlineData("angle<")]
    [InlineData("brace{")]
    [InlineData("bracket[")]
    [InlineData("tilde~")]
    [InlineData("caret^")]
    [InlineData("pipe|")]
    [InlineData("backtick`")]
    [InlineData("tab\t")]
    [InlineData("umlaut-ä")]
    public void IsValidDeviceId_ForbiddenCharacters_False(string id)
    {
        Assert.False(IdentityRules.IsValidDeviceId(id));
        Assert.False(IdentityRules.IsValidModuleId(id));
    }

    [Fact]
    public void IsValidDeviceId_Length_UpTo128()
    {
        Assert.True(IdentityRules.IsValidDeviceId(new string('a', 128)));
        Assert.False(IdentityRules.IsValidDeviceId(new string('a', 129)));
        Assert.True(IdentityRules.IsValidModuleId(new string('m', 128)));
        Assert.False(IdentityRules.IsValidModuleId(new string('m', 129)));
    }

    [Theory]
    [InlineData(16, true)]
    [InlineData(32, true)]
    [InlineData(64, true)]
    [InlineData(15, false)]
    [InlineData(65, false)]
    public void IsValidSymmetricKey_Length_16To64Bytes(int bytes, bool valid)
        => Assert.Equal(valid, IdentityRules.IsValidSymmetricKey(Convert.ToBase64String(new byte[bytes])));

    [Theory]
    [InlineData("not base64!")]
    [InlineData("")]
    [InlineData("AAAA=")]
    public void IsValidSymmetricKey_NotBase64_False(string key) => Assert.False(IdentityRules.IsValidSymmetricKey(key));

    [Theory]
    [InlineData("0123456789abcdef0123456789ABCDEF01234567", true)] // SHA-1
    [InlineData("0123456789abcdef0123456789abcdef0123456789abcdef0123456789ABCDEF", true)] // SHA-256
    [InlineData("0123456789abcdef0123456789abcdef012345", false)] // 38
    [InlineData("0123456789abcdef0123456789abcdef0123456g", false)]
    [InlineData("01:23:45:67:89:ab:cd:ef:01:23:45:67:89:ab", false)]
    [InlineData("", false)]
    public void IsValidThumbprint_Table(string thumbprint, bool valid) => Assert.Equal(valid, IdentityRules.IsValidThumbprint(thumbprint));

    [Fact]
    public void Generate_Key_Is32RandomBytesBase64()
    {
        var keys = Enumerable.Range(0, 50).Select(_ => SymmetricKeys.Generate()).ToList();
        Assert.All(keys, key => Assert.Equal(32, Convert.FromBase64String(key).Length));
        Assert.All(keys, key => Assert.True(IdentityRules.IsValidSymmetricKey(key)));
        Assert.Equal(keys.Count, keys.Distinct().Count());
    }

    [Theory]
    [InlineData(null, "abc", true)]
    [InlineData("", "abc", true)]
    [InlineData("*", "abc", true)]
    [InlineData("\"*\"", "abc", true)]
    [InlineData("abc", "abc", true)]
    [InlineData("\"abc\"", "abc", true)]
    [InlineData("W/\"abc\"", "abc", true)]
    [InlineData("\"abd\"", "abc", false)]
    [InlineData("ABC", "abc", false)]
    public void Matches_IfMatch_Table(string? ifMatch, string current, bool expected) => Assert.Equal(expected, ETags.Matches(ifMatch, current));

    [Fact]
    public void New_ETag_DiffersFromPrevious()
    {
        var etag = ETags.New();
        for (int i = 0; i < 100; i++)
        {
            var next = ETags.New(etag);
            Assert.NotEqual(etag, next);
            etag = next;
        }
    }
}
