using System.Net;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Broker.Core.Registry;
using Broker.Core.Security;
using Broker.Storage.Faster;
using Microsoft.Extensions.Time.Testing;

namespace Broker.Core.Tests;

public sealed class DeviceAuthenticatorTests : IAsyncLifetime
{
    private const string Host = "hub.example.net";

    private readonly TempDirectory _directory = new();
    private readonly FakeTimeProvider _time = new(TestStores.Start);
    private FasterHubStore _store = null!;
    private IdentityRegistry _registry = null!;
    private SharedAccessPolicies _policies = null!;
    private DeviceAuthenticator _authenticator = null!;
    private Device _device = null!;

    public async Task InitializeAsync()
    {
        _store = TestStores.Open(TestStores.SmallOptions(_directory.Path), _time);
        _registry = new IdentityRegistry(_store, _time);
        _policies = await SharedAccessPolicies.LoadOrCreateAsync(_store);
        _authenticator = new DeviceAuthenticator(Host, _registry, _policies, _time);
        _device = await _registry.CreateDeviceAsync(new Device { DeviceId = "dev1" });
    }

    public async Task DisposeAsync()
    {
        await _store.DisposeAsync();
        _directory.Dispose();
    }

    private string PrimaryKey => _device.Authentication!.SymmetricKey!.PrimaryKey!;

    private string SecondaryKey => _device.Authentication!.SymmetricKey!.SecondaryKey!;

    private DateTimeOffset InOneHour => _time.GetUtcNow().AddHours(1);

    private AuthResult Authenticate(string token, string deviceId = "dev1", string? moduleId = null)
        => _authenticator.AuthenticateAsync(DeviceCredentials.FromSasToken(deviceId, moduleId, token)).AsTask().GetAwaiter().GetResult();

    [Fact]
    public void Authenticate_ValidDeviceToken_Success()
    {
        var token = SasTokenBuilder.Create(SasTokenBuilder.ResourceFor(Host, "dev1"), PrimaryKey, InOneHour);
        var result = Authenticate(token);
        Assert.Equal(AuthStatus.Success, result.Status);
        Assert.Equal(AuthMethod.IdentityKey, result.Method);
        Assert.Equal("dev1", result.DeviceId);
        Assert.Null(result.ModuleId);
        Assert.Equal(_device.GenerationId, result.GenerationId);
        Assert.Equal(InOneHour.ToUnixTimeSeconds(), result.ExpiresAt!.Value.ToUnixTimeSeconds());
    }

    [Fact]
    public void Authenticate_SecondaryKey_Success()
        => Assert.Equal(AuthStatus.Success, Authenticate(SasTokenBuilder.Create(SasTokenBuilder.ResourceFor(Host, "dev1"), SecondaryKey, InOneHour)).Status);

    [Fact]
    public void Authenticate_WrongKey_BadCredentials()
        => Assert.Equal(AuthStatus.BadCredentials, Authenticate(SasTokenBuilder.Create(SasTokenBuilder.ResourceFor(Host, "dev1"), SymmetricKeys.Generate(), InOneHour)).Status);

    [Fact]
    public void Authenticate_Garbage_BadCredentials()
        => Assert.Equal(AuthStatus.BadCredentials, Authenticate("not a token").Status);

    [Fact]
    public void Authenticate_ExpiredBeyondSkew_Expired()
    {
        var token = SasTokenBuilder.Create(SasTokenBuilder.ResourceFor(Host, "dev1"), PrimaryKey, _time.GetUtcNow().AddMinutes(10));
        Assert.Equal(AuthStatus.Success, Authenticate(token).Status);
        _time.Advance(TimeSpan.FromMinutes(14));
        Assert.Equal(AuthStatus.Success, Authenticate(token).Status); // 4 minutes past se: within the skew
        _time.Advance(TimeSpan.FromMinutes(1) + TimeSpan.FromSeconds(1));
        Assert.Equal(AuthStatus.Expired, Authenticate(token).Status);
    }

    [Fact]
    public void Authenticate_ExpiryAlreadyPastWithinSkew_Success()
    {
        var token = SasTokenBuilder.Create(SasTokenBuilder.ResourceFor(Host, "dev1"), PrimaryKey, _time.GetUtcNow().AddMinutes(-4));
        Assert.Equal(AuthStatus.Success, Authenticate(token).Status);
    }

    [Fact]
    public void Authenticate_ExpiryPastBeyondSkew_Expired()
    {
        var token = SasTokenBuilder.Create(SasTokenBuilder.ResourceFor(Host, "dev1"), PrimaryKey, _time.GetUtcNow().AddMinutes(-6));
        Assert.Equal(AuthStatus.Expired, Authenticate(token).Status);
    }

    [Fact]
    public async Task Authenticate_TokenForAnotherDevice_NotAuthorized()
    {
        var other = await _registry.CreateDeviceAsync(new Device { DeviceId = "dev2" });
        var token = SasTokenBuilder.Create(SasTokenBuilder.ResourceFor(Host, "dev2"), other.Authentication!.SymmetricKey!.PrimaryKey!, InOneHour);
        Assert.Equal(AuthStatus.Success, Authenticate(token, "dev2").Status);
        Assert.Equal(AuthStatus.NotAuthorized, Authenticate(token, "dev1").Status);
    }

    [Fact]
    public void Authenticate_TokenForAnotherHost_NotAuthorized()
        => Assert.Equal(AuthStatus.NotAuthorized, Authenticate(SasTokenBuilder.Create("other.example.net/devices/dev1", PrimaryKey, InOneHour)).Status);

    [Fact]
    public void Authenticate_DeviceKeyTokenForHubOnly_NotAuthorized()
        => Assert.Equal(AuthStatus.NotAuthorized, Authenticate(SasTokenBuilder.Create(Host, PrimaryKey, InOneHour)).Status);

    [Theory]
    [InlineData("hub.example.net%2Fdevices%2Fdev1")] // C# WebUtility.UrlEncode / Node encodeURIComponent
    [InlineData("hub.example.net%2fdevices%2fdev1")] // docs' lower-case escapes
    [InlineData("HUB.example.net%2Fdevices%2Fdev1")] // host in another case
    [InlineData("hub.example.net/devices/dev1")] // not encoded at all
    public void Authenticate_SrEncodingVariants_SignedOverRawText_Success(string encodedResource)
    {
        var token = SasTokenBuilder.CreateWithEncodedResource(encodedResource, PrimaryKey, InOneHour.ToUnixTimeSeconds());
        Assert.Equal(AuthStatus.Success, Authenticate(token).Status);
    }

    [Fact]
    public async Task Authenticate_IdWithReservedCharacters_CSharpAndNodeEncodings_Success()
    {
        var device = await _registry.CreateDeviceAsync(new Device { DeviceId = "a#b*c'(d)" });
        var key = device.Authentication!.SymmetricKey!.PrimaryKey!;
        long se = InOneHour.ToUnixTimeSeconds();

        // C# SDK: Target = host + "/devices/" + WebUtility.UrlEncode(id), then sr = WebUtility.UrlEncode(Target).
        var csharp = WebUtility.UrlEncode($"{Host}/devices/{WebUtility.UrlEncode(device.DeviceId)}");
        // Node SDK: encodeURIComponent plus !'()* with a lower-case "%2a" for '*'.
        var node = Uri.EscapeDataString($"{Host}/devices/{device.DeviceId}").Replace("%2A", "%2a", StringComparison.Ordinal);

        Assert.NotEqual(csharp, node);
        Assert.Equal(AuthStatus.Success, Authenticate(SasTokenBuilder.CreateWithEncodedResource(csharp, key, se), device.DeviceId).Status);
        Assert.Equal(AuthStatus.Success, Authenticate(SasTokenBuilder.CreateWithEncodedResource(node, key, se), device.DeviceId).Status);
    }

    [Fact]
    public void Authenticate_PolicyWithDeviceConnect_Success()
    {
        var policy = _policies.Find("device")!;
        var token = SasTokenBuilder.Create(SasTokenBuilder.ResourceFor(Host, "dev1"), policy.PrimaryKey, InOneHour, "device");
        var result = Authenticate(token);
        Assert.Equal(AuthStatus.Success, result.Status);
        Assert.Equal(AuthMethod.PolicyKey, result.Method);
        Assert.Equal("device", result.PolicyName);
    }

    [Theory]
    [InlineData(Host)] // C# SDK with SharedAccessKeyName: sr = host
    [InlineData(Host + "/devices")] // gateway / token-service pattern
    public void Authenticate_PolicyTokenOnWiderResource_Success(string resource)
    {
        var policy = _policies.Find("iothubowner")!;
        var token = SasTokenBuilder.Create(resource, policy.SecondaryKey, InOneHour, "iothubowner");
        Assert.Equal(AuthStatus.Success, Authenticate(token).Status);
    }

    [Theory]
    [InlineData("service")]
    [InlineData("registryReadWrite")]
    public void Authenticate_PolicyWithoutDeviceConnect_NotAuthorized(string policyName)
    {
        var policy = _policies.Find(policyName)!;
        var token = SasTokenBuilder.Create(SasTokenBuilder.ResourceFor(Host, "dev1"), policy.PrimaryKey, InOneHour, policyName);
        Assert.Equal(AuthStatus.NotAuthorized, Authenticate(token).Status);
    }

    [Fact]
    public void Authenticate_PolicyTokenSignedWithWrongKey_BadCredentials()
    {
        var token = SasTokenBuilder.Create(Host, _policies.Find("service")!.PrimaryKey, InOneHour, "device");
        Assert.Equal(AuthStatus.BadCredentials, Authenticate(token).Status);
    }

    [Fact]
    public void Authenticate_UnknownPolicy_BadCredentials()
        => Assert.Equal(AuthStatus.BadCredentials, Authenticate(SasTokenBuilder.Create(Host, PrimaryKey, InOneHour, "nobody")).Status);

    [Fact]
    public void Authenticate_PolicyTokenForAnotherDevice_NotAuthorized()
    {
        var token = SasTokenBuilder.Create(SasTokenBuilder.ResourceFor(Host, "dev2"), _policies.Find("device")!.PrimaryKey, InOneHour, "device");
        Assert.Equal(AuthStatus.NotAuthorized, Authenticate(token).Status);
    }

    [Fact]
    public void Authenticate_PolicyTokenForUnknownDevice_DeviceNotFound()
    {
        var token = SasTokenBuilder.Create(Host, _policies.Find("device")!.PrimaryKey, InOneHour, "device");
        Assert.Equal(AuthStatus.DeviceNotFound, Authenticate(token, "nobody").Status);
    }

    [Fact]
    public void Authenticate_UnknownDevice_DeviceNotFound()
    {
        var token = SasTokenBuilder.Create(SasTokenBuilder.ResourceFor(Host, "nobody"), PrimaryKey, InOneHour);
        Assert.Equal(AuthStatus.DeviceNotFound, Authenticate(token, "nobody").Status);
        Assert.Equal(AuthStatus.DeviceNotFound, Authenticate(token, "bad/id").Status);
    }

    [Fact]
    public async Task Authenticate_DisabledDevice_DeviceDisabled()
    {
        var token = SasTokenBuilder.Create(SasTokenBuilder.ResourceFor(Host, "dev1"), PrimaryKey, InOneHour);
        _device = await _registry.UpdateDeviceAsync(_device with { Status = DeviceStatus.Disabled }, "*");
        Assert.Equal(AuthStatus.DeviceDisabled, Authenticate(token).Status);

        var policyToken = SasTokenBuilder.Create(Host, _policies.Find("device")!.PrimaryKey, InOneHour, "device");
        Assert.Equal(AuthStatus.DeviceDisabled, Authenticate(policyToken).Status);

        // A wrong key is still just bad credentials: being disabled is only told to genuine callers.
        Assert.Equal(AuthStatus.BadCredentials, Authenticate(SasTokenBuilder.Create(SasTokenBuilder.ResourceFor(Host, "dev1"), SymmetricKeys.Generate(), InOneHour)).Status);
    }

    [Fact]
    public async Task Authenticate_ModuleToken_UsesModuleKeys()
    {
        var module = await _registry.CreateModuleAsync(new Module { DeviceId = "dev1", ModuleId = "mod1" });
        var moduleKey = module.Authentication!.SymmetricKey!.PrimaryKey!;
        var token = SasTokenBuilder.Create(SasTokenBuilder.ResourceFor(Host, "dev1", "mod1"), moduleKey, InOneHour);

        var result = Authenticate(token, "dev1", "mod1");
        Assert.Equal(AuthStatus.Success, result.Status);
        Assert.Equal("mod1", result.ModuleId);
        Assert.Equal(module.GenerationId, result.GenerationId);

        // The device's key does not sign for the module, nor the module's token for the device.
        Assert.Equal(AuthStatus.BadCredentials,
            Authenticate(SasTokenBuilder.Create(SasTokenBuilder.ResourceFor(Host, "dev1", "mod1"), PrimaryKey, InOneHour), "dev1", "mod1").Status);
        Assert.Equal(AuthStatus.NotAuthorized, Authenticate(token, "dev1").Status);
        Assert.Equal(AuthStatus.DeviceNotFound,
            Authenticate(SasTokenBuilder.Create(SasTokenBuilder.ResourceFor(Host, "dev1", "nomod"), moduleKey, InOneHour), "dev1", "nomod").Status);
    }

    [Fact]
    public async Task Authenticate_X509PrimaryOrSecondaryThumbprint_Success_Mismatch_BadCredentials()
    {
        using var primary = CreateCertificate("x509-dev");
        using var secondary = CreateCertificate("x509-dev");
        using var stranger = CreateCertificate("x509-dev");
        await _registry.CreateDeviceAsync(new Device
        {
            DeviceId = "x509-dev",
            Authentication = new AuthenticationMechanism
            {
                Type = AuthenticationType.SelfSigned,
                X509Thumbprint = new X509Thumbprint
                {
                    PrimaryThumbprint = primary.Thumbprint.ToLowerInvariant(), // SHA-1, any case
                    SecondaryThumbprint = secondary.GetCertHashString(HashAlgorithmName.SHA256), // SHA-256
                },
            },
        });

        var result = await _authenticator.AuthenticateAsync(DeviceCredentials.FromCertificate("x509-dev", null, primary));
        Assert.Equal(AuthStatus.Success, result.Status);
        Assert.Equal(AuthMethod.X509SelfSigned, result.Method);
        Assert.Null(result.ExpiresAt);
        Assert.Equal(AuthStatus.Success, (await _authenticator.AuthenticateAsync(DeviceCredentials.FromCertificate("x509-dev", null, secondary))).Status);
        Assert.Equal(AuthStatus.BadCredentials, (await _authenticator.AuthenticateAsync(DeviceCredentials.FromCertificate("x509-dev", null, stranger))).Status);
        Assert.Equal(AuthStatus.DeviceNotFound, (await _authenticator.AuthenticateAsync(DeviceCredentials.FromCertificate("nobody", null, primary))).Status);
    }

    [Fact]
    public async Task Authenticate_CertificateForSasDevice_BadCredentials()
    {
        using var certificate = CreateCertificate("dev1");
        Assert.Equal(AuthStatus.BadCredentials, (await _authenticator.AuthenticateAsync(DeviceCredentials.FromCertificate("dev1", null, certificate))).Status);
    }

    [Fact]
    public async Task Authenticate_X509DisabledOrExpiredCertificate_Refused()
    {
        using var certificate = CreateCertificate("x509-dev");
        var device = await _registry.CreateDeviceAsync(new Device
        {
            DeviceId = "x509-dev",
            Authentication = new AuthenticationMechanism
            {
                Type = AuthenticationType.SelfSigned,
                X509Thumbprint = new X509Thumbprint { PrimaryThumbprint = certificate.Thumbprint },
            },
        });
        var credentials = DeviceCredentials.FromCertificate("x509-dev", null, certificate);

        await _registry.UpdateDeviceAsync(device with { Status = DeviceStatus.Disabled }, "*");
        Assert.Equal(AuthStatus.DeviceDisabled, (await _authenticator.AuthenticateAsync(credentials)).Status);

        _time.Advance(TimeSpan.FromDays(400));
        Assert.Equal(AuthStatus.Expired, (await _authenticator.AuthenticateAsync(credentials)).Status);
    }

    private X509Certificate2 CreateCertificate(string commonName)
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest($"CN={commonName}", key, HashAlgorithmName.SHA256);
        var now = _time.GetUtcNow();
        return request.CreateSelfSigned(now.AddDays(-1), now.AddDays(365));
    }
}
