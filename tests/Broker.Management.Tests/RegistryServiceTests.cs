using System.Text.Json;
using Broker.Core.Registry;
using Broker.Core.Security;
using Broker.Management.V1;
using Grpc.Core;

namespace Broker.Management.Tests;

public sealed class RegistryServiceTests(ManagementServer server) : IClassFixture<ManagementServer>
{
    private const string Thumbprint = "0123456789ABCDEF0123456789ABCDEF01234567";

    private static string NewId(string prefix = "dev") => $"{prefix}-{Guid.NewGuid():N}";

    private async Task<Device> CreateAsync(string json)
    {
        var reply = await server.RegistryClient.CreateDeviceAsync(new CreateDeviceRequest { DeviceJson = json }, server.AsOwner());
        return JsonSerializer.Deserialize(reply.DeviceJson, RegistryJsonContext.Default.Device)!;
    }

    private Task<Device> CreateAsync(Device device) => CreateAsync(JsonSerializer.Serialize(device, RegistryJsonContext.Default.Device));

    [Fact]
    public async Task CreateDevice_MinimalJson_GeneratesKeysETagAndGenerationId()
    {
        var id = NewId();
        var created = await CreateAsync($$"""{"deviceId":"{{id}}"}""");

        Assert.Equal(id, created.DeviceId);
        Assert.Equal(DeviceStatus.Enabled, created.Status);
        Assert.Equal(AuthenticationType.Sas, created.Authentication!.Type);
        Assert.Equal(32, Convert.FromBase64String(created.Authentication.SymmetricKey!.PrimaryKey!).Length);
        Assert.Matches("^[0-9]{18}$", created.GenerationId);
        Assert.False(string.IsNullOrEmpty(created.ETag));
        Assert.Equal(created, server.Registry.GetDevice(id));
    }

    [Fact]
    public async Task CreateDevice_X509Edge_KeepsThumbprintsAndEdgeScope()
    {
        var id = NewId();
        var created = await CreateAsync(new Device
        {
            DeviceId = id,
            Status = DeviceStatus.Disabled,
            StatusReason = "provisioning",
            Authentication = new AuthenticationMechanism { Type = AuthenticationType.SelfSigned, X509Thumbprint = new X509Thumbprint { PrimaryThumbprint = Thumbprint } },
            Capabilities = new DeviceCapabilities { IotEdge = true },
        });

        Assert.Equal(DeviceStatus.Disabled, created.Status);
        Assert.Equal("provisioning", created.StatusReason);
        Assert.Equal(AuthenticationType.SelfSigned, created.Authentication!.Type);
        Assert.Equal(Thumbprint, created.Authentication.X509Thumbprint!.PrimaryThumbprint);
        Assert.True(created.Capabilities!.IotEdge);
        Assert.Equal($"ms-azure-iot-edge://{id}-{created.GenerationId}", created.DeviceScope);
    }

    [Fact]
    public async Task CreateDevice_ExistingId_AlreadyExists409001()
    {
        var id = NewId();
        await CreateAsync(new Device { DeviceId = id });

        var message = await Rpc.FailsWith(StatusCode.AlreadyExists, "DeviceAlreadyExists", 409001,
            () => CreateAsync(new Device { DeviceId = id }));
        Assert.Contains(id, message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("")]
    [InlineData("not json")]
    [InlineData("null")]
    [InlineData("""{"deviceId":"bad/id"}""")]
    [InlineData("""{"deviceId":"d","status":"sleeping"}""")]
    [InlineData("""{"deviceId":"d","authentication":{"type":"sas","symmetricKey":{"primaryKey":"c2hvcnQ="}}}""")]
    public async Task CreateDevice_InvalidDevice_InvalidArgument400004(string json)
        => await Rpc.FailsWith(StatusCode.InvalidArgument, "ArgumentInvalid", 400004, () => CreateAsync(json));

    [Fact]
    public async Task GetDevice_Registered_ReturnsIotHubJsonShape()
    {
        var id = NewId();
        await CreateAsync(new Device { DeviceId = id });

        var reply = await server.RegistryClient.GetDeviceAsync(new GetDeviceRequest { DeviceId = id }, server.AsOwner());

        using var json = JsonDocument.Parse(reply.DeviceJson);
        var root = json.RootElement;
        Assert.Equal(id, root.GetProperty("deviceId").GetString());
        Assert.Equal("enabled", root.GetProperty("status").GetString());
        Assert.Equal("Disconnected", root.GetProperty("connectionState").GetString());
        Assert.Equal("0001-01-01T00:00:00Z", root.GetProperty("lastActivityTime").GetString());
        Assert.Equal("sas", root.GetProperty("authentication").GetProperty("type").GetString());
        Assert.False(string.IsNullOrEmpty(root.GetProperty("authentication").GetProperty("symmetricKey").GetProperty("primaryKey").GetString()));
        Assert.False(root.GetProperty("capabilities").GetProperty("iotEdge").GetBoolean());
        Assert.True(root.TryGetProperty("etag", out _));
        Assert.True(root.TryGetProperty("generationId", out _));
    }

    [Fact]
    public async Task GetDevice_Unknown_NotFound404001()
    {
        var message = await Rpc.FailsWith(StatusCode.NotFound, "DeviceNotFound", 404001,
            async () => await server.RegistryClient.GetDeviceAsync(new GetDeviceRequest { DeviceId = "nobody" }, server.AsOwner()));
        Assert.Equal("Device nobody not registered", message);
    }

    [Fact]
    public async Task ListDevices_Registered_ReturnsThemOrderedById()
    {
        var prefix = NewId("list");
        foreach (var suffix in new[] { "c", "a", "b" })
        {
            await CreateAsync(new Device { DeviceId = $"{prefix}-{suffix}" });
        }

        var reply = await server.RegistryClient.ListDevicesAsync(new ListDevicesRequest(), server.AsOwner());

        var ids = reply.DevicesJson
            .Select(json => JsonSerializer.Deserialize(json, RegistryJsonContext.Default.Device)!.DeviceId)
            .Where(id => id.StartsWith(prefix, StringComparison.Ordinal))
            .ToList();
        Assert.Equal([$"{prefix}-a", $"{prefix}-b", $"{prefix}-c"], ids);
    }

    [Fact]
    public async Task ListDevices_Top_LimitsTheCount()
    {
        await CreateAsync(new Device { DeviceId = NewId() });
        await CreateAsync(new Device { DeviceId = NewId() });

        var reply = await server.RegistryClient.ListDevicesAsync(new ListDevicesRequest { Top = 1 }, server.AsOwner());

        Assert.Single(reply.DevicesJson);
    }

    [Fact]
    public async Task ListDevices_NegativeTop_InvalidArgument400004()
        => await Rpc.FailsWith(StatusCode.InvalidArgument, "ArgumentInvalid", 400004,
            async () => await server.RegistryClient.ListDevicesAsync(new ListDevicesRequest { Top = -1 }, server.AsOwner()));

    [Fact]
    public async Task UpdateDevice_MatchingETag_ChangesStatusAndETag()
    {
        var created = await CreateAsync(new Device { DeviceId = NewId() });
        var changed = created with { Status = DeviceStatus.Disabled, StatusReason = "stolen" };

        var reply = await server.RegistryClient.UpdateDeviceAsync(
            new UpdateDeviceRequest { DeviceJson = JsonSerializer.Serialize(changed, RegistryJsonContext.Default.Device), IfMatch = $"\"{created.ETag}\"" },
            server.AsOwner());

        var updated = JsonSerializer.Deserialize(reply.DeviceJson, RegistryJsonContext.Default.Device)!;
        Assert.Equal(DeviceStatus.Disabled, updated.Status);
        Assert.Equal("stolen", updated.StatusReason);
        Assert.NotEqual(created.ETag, updated.ETag);
        Assert.Equal(created.Authentication, updated.Authentication);
        Assert.Equal(updated, server.Registry.GetDevice(created.DeviceId));
    }

    [Theory]
    [InlineData("")]
    [InlineData("*")]
    [InlineData("\"*\"")]
    public async Task UpdateDevice_NoOrWildcardIfMatch_Updates(string ifMatch)
    {
        var created = await CreateAsync(new Device { DeviceId = NewId() });

        await server.RegistryClient.UpdateDeviceAsync(
            new UpdateDeviceRequest { DeviceJson = JsonSerializer.Serialize(created with { Status = DeviceStatus.Disabled }, RegistryJsonContext.Default.Device), IfMatch = ifMatch },
            server.AsOwner());

        Assert.Equal(DeviceStatus.Disabled, server.Registry.GetDevice(created.DeviceId).Status);
    }

    [Fact]
    public async Task UpdateDevice_StaleETag_FailedPrecondition412001()
    {
        var created = await CreateAsync(new Device { DeviceId = NewId() });
        var json = JsonSerializer.Serialize(created with { Status = DeviceStatus.Disabled }, RegistryJsonContext.Default.Device);
        await server.RegistryClient.UpdateDeviceAsync(new UpdateDeviceRequest { DeviceJson = json, IfMatch = created.ETag }, server.AsOwner());

        await Rpc.FailsWith(StatusCode.FailedPrecondition, "PreconditionFailed", 412001,
            async () => await server.RegistryClient.UpdateDeviceAsync(new UpdateDeviceRequest { DeviceJson = json, IfMatch = created.ETag }, server.AsOwner()));
    }

    [Fact]
    public async Task UpdateDevice_Unknown_NotFound404001()
        => await Rpc.FailsWith(StatusCode.NotFound, "DeviceNotFound", 404001,
            async () => await server.RegistryClient.UpdateDeviceAsync(new UpdateDeviceRequest { DeviceJson = """{"deviceId":"ghost"}""" }, server.AsOwner()));

    [Fact]
    public async Task DeleteDevice_MatchingETag_RemovesIt()
    {
        var created = await CreateAsync(new Device { DeviceId = NewId() });

        await server.RegistryClient.DeleteDeviceAsync(new DeleteDeviceRequest { DeviceId = created.DeviceId, IfMatch = created.ETag }, server.AsOwner());

        Assert.Null(server.Registry.TryGetDevice(created.DeviceId));
        await Rpc.FailsWith(StatusCode.NotFound, "DeviceNotFound", 404001,
            async () => await server.RegistryClient.GetDeviceAsync(new GetDeviceRequest { DeviceId = created.DeviceId }, server.AsOwner()));
    }

    [Fact]
    public async Task DeleteDevice_NoIfMatch_RemovesIt()
    {
        var created = await CreateAsync(new Device { DeviceId = NewId() });

        await server.RegistryClient.DeleteDeviceAsync(new DeleteDeviceRequest { DeviceId = created.DeviceId }, server.AsOwner());

        Assert.Null(server.Registry.TryGetDevice(created.DeviceId));
    }

    [Fact]
    public async Task DeleteDevice_StaleETag_FailedPrecondition412001AndKeepsIt()
    {
        var created = await CreateAsync(new Device { DeviceId = NewId() });

        await Rpc.FailsWith(StatusCode.FailedPrecondition, "PreconditionFailed", 412001,
            async () => await server.RegistryClient.DeleteDeviceAsync(new DeleteDeviceRequest { DeviceId = created.DeviceId, IfMatch = "\"stale\"" }, server.AsOwner()));
        Assert.NotNull(server.Registry.TryGetDevice(created.DeviceId));
    }

    [Fact]
    public async Task DeleteDevice_Unknown_NotFound404001()
        => await Rpc.FailsWith(StatusCode.NotFound, "DeviceNotFound", 404001,
            async () => await server.RegistryClient.DeleteDeviceAsync(new DeleteDeviceRequest { DeviceId = "ghost" }, server.AsOwner()));

    [Fact]
    public async Task GetDeviceConnectionString_SasDevice_PrimaryKeyStringThatAuthenticates()
    {
        var created = await CreateAsync(new Device { DeviceId = NewId() });

        var reply = await server.RegistryClient.GetDeviceConnectionStringAsync(new GetDeviceConnectionStringRequest { DeviceId = created.DeviceId }, server.AsOwner());

        var key = created.Authentication!.SymmetricKey!.PrimaryKey!;
        Assert.Equal($"HostName={ManagementServer.HostName};DeviceId={created.DeviceId};SharedAccessKey={key}", reply.ConnectionString);
        var token = SasTokenBuilder.Create(SasTokenBuilder.ResourceFor(ManagementServer.HostName, created.DeviceId), key, server.Time.GetUtcNow().AddHours(1));
        var authenticator = new DeviceAuthenticator(ManagementServer.HostName, server.Registry, server.Policies, server.Time);
        Assert.True(authenticator.AuthenticateToken(created.DeviceId, null, token).Succeeded);
    }

    [Fact]
    public async Task GetDeviceConnectionString_X509Device_X509String()
    {
        var created = await CreateAsync(new Device
        {
            DeviceId = NewId(),
            Authentication = new AuthenticationMechanism { Type = AuthenticationType.SelfSigned, X509Thumbprint = new X509Thumbprint { PrimaryThumbprint = Thumbprint } },
        });

        var reply = await server.RegistryClient.GetDeviceConnectionStringAsync(new GetDeviceConnectionStringRequest { DeviceId = created.DeviceId }, server.AsOwner());

        Assert.Equal($"HostName={ManagementServer.HostName};DeviceId={created.DeviceId};x509=true", reply.ConnectionString);
    }

    [Fact]
    public async Task GetDeviceConnectionString_Unknown_NotFound404001()
        => await Rpc.FailsWith(StatusCode.NotFound, "DeviceNotFound", 404001,
            async () => await server.RegistryClient.GetDeviceConnectionStringAsync(new GetDeviceConnectionStringRequest { DeviceId = "ghost" }, server.AsOwner()));
}
