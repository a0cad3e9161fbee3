using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using Broker.Core.CloudToDevice;
using Broker.Core.Security;
using Broker.Host.Tests.Support;
using Broker.Plugins.Management;
using Microsoft.Extensions.DependencyInjection;

namespace Broker.IntegrationTests.Plugins;

/// <summary>
/// Issue #4: a plug-in's management surface (the contract's <see cref="IManagementSurface"/>) is served under
/// <c>/plugins/</c> on the management listener, behind the policy SAS check, and acts on the hub through the
/// host-supplied <see cref="IHubServiceClient"/>.
/// </summary>
public sealed class ManagementSurfaceTests : IAsyncLifetime
{
    private TestBroker _broker = null!;
    private HttpClient _http = null!;

    public async Task InitializeAsync()
    {
        _broker = await TestBroker.StartAsync(new TestBrokerOptions
        {
            // Registered as a plug-in registers its services in ConfigureServices.
            ConfigureServices = services => services.AddSingleton<IManagementSurface, DeviceToolsSurface>(),
        });
        // The management listener speaks HTTP/2 without TLS (prior knowledge), as the gRPC API does.
        _http = new HttpClient
        {
            BaseAddress = new Uri($"http://127.0.0.1:{_broker.ManagementPort}"),
            DefaultRequestVersion = HttpVersion.Version20,
            DefaultVersionPolicy = HttpVersionPolicy.RequestVersionExact,
            Timeout = TimeSpan.FromSeconds(30),
        };
    }

    public async Task DisposeAsync()
    {
        _http.Dispose();
        await _broker.DisposeAsync();
    }

    [Fact]
    public async Task Surface_ReadsTheRegistryThroughTheHubServiceClient()
    {
        await _broker.CreateDeviceAsync("surface-read");

        using var response = await SendAsync(HttpMethod.Get, "/plugins/device-tools/devices/surface-read", OwnerToken());

        string text = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.OK, $"{response.StatusCode}: {text} {response.Headers} {response.Content.Headers}");
        using var body = JsonDocument.Parse(text);
        Assert.Equal("surface-read", body.RootElement.GetProperty("deviceId").GetString());
        Assert.False(body.RootElement.GetProperty("connected").GetBoolean());
    }

    [Fact]
    public async Task Surface_SendsCloudToDeviceMessagesThatReachTheQueue()
    {
        await _broker.CreateDeviceAsync("surface-c2d");

        using var response = await SendAsync(HttpMethod.Post, "/plugins/device-tools/devices/surface-c2d/messages", OwnerToken(), "ping");

        Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
        Assert.Equal(1, _broker.Services.GetRequiredService<CloudToDeviceService>().PendingCount("surface-c2d"));
    }

    [Fact]
    public async Task Surface_HubErrorsBecomeIotHubErrorAnswers()
    {
        using var response = await SendAsync(HttpMethod.Post, "/plugins/device-tools/devices/nobody/messages", OwnerToken(), "ping");

        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
        using var body = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        Assert.StartsWith("ErrorCode:DeviceNotFound;", body.RootElement.GetProperty("Message").GetString(), StringComparison.Ordinal);
        Assert.Equal(404001, body.RootElement.GetProperty("errorCode").GetInt32());
    }

    [Fact]
    public async Task Surface_WithoutAToken_AnswersUnauthorizedAndNeverRunsTheHandler()
    {
        await _broker.CreateDeviceAsync("surface-anon");

        using var response = await SendAsync(HttpMethod.Post, "/plugins/device-tools/devices/surface-anon/messages", token: null, "ping");

        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        Assert.Equal(0, _broker.Services.GetRequiredService<CloudToDeviceService>().PendingCount("surface-anon"));
    }

    [Fact]
    public async Task Surface_WithAPolicyLackingTheRouteRights_AnswersUnauthorized()
    {
        await _broker.CreateDeviceAsync("surface-rights");

        // registryRead can read devices but not send messages (ServiceConnect).
        using var response = await SendAsync(HttpMethod.Post, "/plugins/device-tools/devices/surface-rights/messages", TokenOf("registryRead"), "ping");

        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
    }

    private async Task<HttpResponseMessage> SendAsync(HttpMethod method, string path, string? token, string? body = null)
    {
        using var request = new HttpRequestMessage(method, path)
        {
            Version = HttpVersion.Version20,
            VersionPolicy = HttpVersionPolicy.RequestVersionExact,
        };
        if (token is not null)
        {
            request.Headers.TryAddWithoutValidation("Authorization", token);
        }

        if (body is not null)
        {
            request.Content = new StringContent(body, Encoding.UTF8, new MediaTypeHeaderValue("text/plain"));
        }

        return await _http.SendAsync(request);
    }

    private string OwnerToken() => TokenOf("iothubowner");

    private string TokenOf(string policyName)
    {
        var policy = _broker.Services.GetRequiredService<SharedAccessPolicies>().Find(policyName)!;
        return SasTokenBuilder.Create(_broker.HostName, policy.PrimaryKey, DateTimeOffset.UtcNow.AddHours(1), policy.KeyName);
    }

    /// <summary>What a third-party plug-in would write: routes that act on the hub only through the contract.</summary>
    private sealed class DeviceToolsSurface(IHubServiceClient hub) : IManagementSurface
    {
        public void MapEndpoints(IManagementEndpointBuilder endpoints)
        {
            endpoints.Map("GET", "device-tools/devices/{deviceId}", ManagementPermissions.RegistryRead, async (request, cancellationToken) =>
            {
                var device = await hub.GetDeviceAsync(request.RouteValues["deviceId"], cancellationToken);
                return device is null
                    ? ManagementResponse.Status(404)
                    : ManagementResponse.Json(200, JsonSerializer.SerializeToUtf8Bytes(new { deviceId = device.DeviceId, connected = device.IsConnected }));
            });
            endpoints.Map("POST", "device-tools/devices/{deviceId}/messages", ManagementPermissions.ServiceConnect, async (request, cancellationToken) =>
            {
                await hub.SendCloudToDeviceAsync(new CloudToDeviceMessage { DeviceId = request.RouteValues["deviceId"], Body = request.Body }, cancellationToken);
                return ManagementResponse.Status(202);
            });
        }
    }
}
