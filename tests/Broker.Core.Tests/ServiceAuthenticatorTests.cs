using Broker.Core.Security;
using Microsoft.Extensions.Time.Testing;

namespace Broker.Core.Tests;

public sealed class ServiceAuthenticatorTests
{
    private const string Host = "hub.example.net";

    private readonly FakeTimeProvider _time = new(TestStores.Start);
    private readonly SharedAccessPolicies _policies = SharedAccessPolicies.CreateDefaults();
    private readonly ServiceAuthenticator _authenticator;

    public ServiceAuthenticatorTests()
    {
        _authenticator = new ServiceAuthenticator(Host, _policies, _time);
    }

    private string Token(string policy, string resource = Host, bool secondary = false)
    {
        var found = _policies.Find(policy)!;
        // The service SDKs sign sr = HostName unencoded.
        return SasTokenBuilder.CreateWithEncodedResource(resource, secondary ? found.SecondaryKey : found.PrimaryKey, _time.GetUtcNow().AddHours(1).ToUnixTimeSeconds(), policy);
    }

    [Theory]
    [InlineData("iothubowner", AccessRights.RegistryWrite, AuthStatus.Success)]
    [InlineData("registryReadWrite", AccessRights.RegistryRead, AuthStatus.Success)]
    [InlineData("registryRead", AccessRights.RegistryRead, AuthStatus.Success)]
    [InlineData("registryRead", AccessRights.RegistryWrite, AuthStatus.NotAuthorized)]
    [InlineData("service", AccessRights.ServiceConnect, AuthStatus.Success)]
    [InlineData("service", AccessRights.RegistryRead, AuthStatus.NotAuthorized)]
    [InlineData("device", AccessRights.ServiceConnect, AuthStatus.NotAuthorized)]
    public void Authenticate_PolicyRights_Table(string policy, AccessRights required, AuthStatus expected)
    {
        var result = _authenticator.Authenticate(Token(policy), required, "devices/dev1");
        Assert.Equal(expected, result.Status);
        if (expected == AuthStatus.Success)
        {
            Assert.Equal(policy, result.PolicyName);
        }
    }

    [Fact]
    public void Authenticate_SecondaryKey_Success()
        => Assert.True(_authenticator.Authenticate(Token("service", secondary: true), AccessRights.ServiceConnect).Succeeded);

    [Fact]
    public void Authenticate_DeviceKeyToken_BadCredentials()
    {
        var token = SasTokenBuilder.Create(Host, _policies.Find("iothubowner")!.PrimaryKey, _time.GetUtcNow().AddHours(1));
        Assert.Equal(AuthStatus.BadCredentials, _authenticator.Authenticate(token, AccessRights.ServiceConnect).Status);
    }

    [Fact]
    public void Authenticate_NarrowResource_OnlyCoversItsPaths()
    {
        var token = Token("iothubowner", $"{Host}%2Fdevices%2Fdev1");
        Assert.True(_authenticator.Authenticate(token, AccessRights.RegistryRead, "devices/dev1").Succeeded);
        Assert.True(_authenticator.Authenticate(token, AccessRights.RegistryRead, "/devices/dev1/modules/m/").Succeeded);
        Assert.Equal(AuthStatus.NotAuthorized, _authenticator.Authenticate(token, AccessRights.RegistryRead, "devices/dev10").Status);
        Assert.Equal(AuthStatus.NotAuthorized, _authenticator.Authenticate(token, AccessRights.RegistryRead).Status);
    }

    [Fact]
    public void Authenticate_Expired_AfterSkew()
    {
        var token = Token("service");
        _time.Advance(TimeSpan.FromHours(1) + TimeSpan.FromMinutes(5));
        Assert.True(_authenticator.Authenticate(token, AccessRights.ServiceConnect).Succeeded);
        _time.Advance(TimeSpan.FromSeconds(1));
        Assert.Equal(AuthStatus.Expired, _authenticator.Authenticate(token, AccessRights.ServiceConnect).Status);
    }
}
