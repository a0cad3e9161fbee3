using Broker.Core.Security;
using Broker.Management.V1;
using Grpc.Core;

namespace Broker.Management.Tests;

public sealed class AuthorizationTests(ManagementServer server) : IClassFixture<ManagementServer>
{
    private static string NewId() => $"auth-{Guid.NewGuid():N}";

    private Task<DeviceReply> GetAs(CallOptions options, string deviceId = "anyone")
        => server.RegistryClient.GetDeviceAsync(new GetDeviceRequest { DeviceId = deviceId }, options).ResponseAsync;

    private Task<DeviceReply> CreateAs(CallOptions options, string json)
        => server.RegistryClient.CreateDeviceAsync(new CreateDeviceRequest { DeviceJson = json }, options).ResponseAsync;

    [Fact]
    public async Task GetDevice_NoToken_Unauthenticated401002()
        => await Rpc.FailsWith(StatusCode.Unauthenticated, "IotHubUnauthorizedAccess", 401002, () => GetAs(default));

    [Theory]
    [InlineData("garbage")]
    [InlineData("SharedAccessSignature sr=x&sig=y&se=1")]
    public async Task GetDevice_MalformedToken_Unauthenticated401002(string token)
        => await Rpc.FailsWith(StatusCode.Unauthenticated, "IotHubUnauthorizedAccess", 401002, () => GetAs(ManagementServer.As(token)));

    [Fact]
    public async Task GetDevice_TokenSignedWithWrongKey_Unauthenticated401002()
    {
        var token = SasTokenBuilder.Create(ManagementServer.HostName, SymmetricKeys.Generate(), server.Time.GetUtcNow().AddHours(1), "iothubowner");
        await Rpc.FailsWith(StatusCode.Unauthenticated, "IotHubUnauthorizedAccess", 401002, () => GetAs(ManagementServer.As(token)));
    }

    [Fact]
    public async Task GetDevice_DeviceKeyToken_Unauthenticated401002()
    {
        // No skn: a device token, which never reaches the registry.
        var token = SasTokenBuilder.Create(ManagementServer.HostName, server.Policies.Find("iothubowner")!.PrimaryKey, server.Time.GetUtcNow().AddHours(1));
        await Rpc.FailsWith(StatusCode.Unauthenticated, "IotHubUnauthorizedAccess", 401002, () => GetAs(ManagementServer.As(token)));
    }

    [Fact]
    public async Task GetDevice_ExpiredToken_Unauthenticated401002()
    {
        // Past the expiry plus the 5 minutes of clock skew IoT Hub allows.
        var token = server.Token("iothubowner", expiresAt: server.Time.GetUtcNow().AddMinutes(-6));
        var message = await Rpc.FailsWith(StatusCode.Unauthenticated, "IotHubUnauthorizedAccess", 401002, () => GetAs(ManagementServer.As(token)));
        Assert.Contains("expired", message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task GetDevice_TokenOutlivedByTheClock_Unauthenticated401002()
    {
        var token = server.Token("iothubowner", expiresAt: server.Time.GetUtcNow().AddMinutes(1));
        await Rpc.FailsWith(StatusCode.NotFound, "DeviceNotFound", 404001, () => GetAs(ManagementServer.As(token)));

        server.Time.Advance(TimeSpan.FromMinutes(7));

        await Rpc.FailsWith(StatusCode.Unauthenticated, "IotHubUnauthorizedAccess", 401002, () => GetAs(ManagementServer.As(token)));
    }

    [Theory]
    [InlineData("registryRead")]
    [InlineData("service")]
    [InlineData("device")]
    public async Task CreateDevice_PolicyWithoutRegistryWrite_PermissionDenied401002(string policy)
    {
        var id = NewId();
        var message = await Rpc.FailsWith(StatusCode.PermissionDenied, "IotHubUnauthorizedAccess", 401002,
            () => CreateAs(ManagementServer.As(server.Token(policy)), $$"""{"deviceId":"{{id}}"}"""));
        Assert.Contains(policy, message, StringComparison.Ordinal);
        Assert.Null(server.Registry.TryGetDevice(id));
    }

    [Theory]
    [InlineData("service")]
    [InlineData("device")]
    public async Task GetDevice_PolicyWithoutRegistryRead_PermissionDenied401002(string policy)
        => await Rpc.FailsWith(StatusCode.PermissionDenied, "IotHubUnauthorizedAccess", 401002, () => GetAs(ManagementServer.As(server.Token(policy))));

    [Theory]
    [InlineData("registryRead")]
    [InlineData("registryReadWrite")]
    [InlineData("iothubowner")]
    public async Task GetDevice_PolicyWithRegistryRead_ReachesTheRegistry(string policy)
        => await Rpc.FailsWith(StatusCode.NotFound, "DeviceNotFound", 404001, () => GetAs(ManagementServer.As(server.Token(policy))));

    [Fact]
    public async Task CreateDevice_RegistryReadWrite_Creates()
    {
        var id = NewId();
        await CreateAs(ManagementServer.As(server.Token("registryReadWrite")), $$"""{"deviceId":"{{id}}"}""");
        Assert.NotNull(server.Registry.TryGetDevice(id));
    }

    [Fact]
    public async Task CreateDevice_InvalidJsonWithoutToken_UnauthenticatedBeforeParsing()
        => await Rpc.FailsWith(StatusCode.Unauthenticated, "IotHubUnauthorizedAccess", 401002, () => CreateAs(default, "not json"));

    [Fact]
    public async Task DeleteDevice_RegistryRead_PermissionDeniedAndKeepsIt()
    {
        var id = NewId();
        await CreateAs(server.AsOwner(), $$"""{"deviceId":"{{id}}"}""");

        await Rpc.FailsWith(StatusCode.PermissionDenied, "IotHubUnauthorizedAccess", 401002,
            async () => await server.RegistryClient.DeleteDeviceAsync(new DeleteDeviceRequest { DeviceId = id }, ManagementServer.As(server.Token("registryRead"))));
        Assert.NotNull(server.Registry.TryGetDevice(id));
    }

    [Fact]
    public async Task GetDevice_TokenScopedToOneDevice_CoversOnlyThatDevice()
    {
        var id = NewId();
        await CreateAs(server.AsOwner(), $$"""{"deviceId":"{{id}}"}""");
        var scoped = ManagementServer.As(server.Token("registryRead", $"{ManagementServer.HostName}/devices/{id}"));

        await GetAs(scoped, id);
        await Rpc.FailsWith(StatusCode.PermissionDenied, "IotHubUnauthorizedAccess", 401002, () => GetAs(scoped, NewId()));
        await Rpc.FailsWith(StatusCode.PermissionDenied, "IotHubUnauthorizedAccess", 401002,
            async () => await server.RegistryClient.ListDevicesAsync(new ListDevicesRequest(), scoped));
    }

    [Fact]
    public async Task ListPolicies_DevicePolicy_PermissionDenied401002()
        => await Rpc.FailsWith(StatusCode.PermissionDenied, "IotHubUnauthorizedAccess", 401002,
            async () => await server.PoliciesClient.ListPoliciesAsync(new ListPoliciesRequest(), ManagementServer.As(server.Token("device"))));

    [Fact]
    public async Task ListPolicies_NoToken_Unauthenticated401002()
        => await Rpc.FailsWith(StatusCode.Unauthenticated, "IotHubUnauthorizedAccess", 401002,
            async () => await server.PoliciesClient.ListPoliciesAsync(new ListPoliciesRequest()));
}
