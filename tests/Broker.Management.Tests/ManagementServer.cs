using System.Net;
using Broker.Core.CloudToDevice;
using Broker.Core.Hub;
using Broker.Core.Methods;
using Broker.Core.Twins;
using Broker.Core.Registry;
using Broker.Core.Security;
using Broker.Core.Storage;
using Broker.Management.V1;
using Broker.Storage.Faster;
using Grpc.Core;
using Grpc.Net.Client;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Time.Testing;

namespace Broker.Management.Tests;

/// <summary>
/// The management API as the host will run it: Kestrel on a loopback HTTP/2 port, a real FASTER store in a
/// temp folder, the real registry and policies. Time is fake but starts at the real now, because the CLI
/// signs its tokens with the system clock.
/// </summary>
public sealed class ManagementServer : IAsyncLifetime
{
    public const string HostName = "test-hub.azure-devices.net";

    private readonly TempDirectory _directory = new();
    private FasterHubStore _store = null!;
    private WebApplication _app = null!;
    private GrpcChannel _channel = null!;

    public FakeTimeProvider Time { get; } = new(DateTimeOffset.UtcNow);

    public SharedAccessPolicies Policies { get; private set; } = null!;

    public IdentityRegistry Registry { get; private set; } = null!;

    public Uri Address { get; private set; } = null!;

    public RegistryService.RegistryServiceClient RegistryClient { get; private set; } = null!;

    public PolicyService.PolicyServiceClient PoliciesClient { get; private set; } = null!;

    public EventsService.EventsServiceClient EventsClient { get; private set; } = null!;

    public IHubStore Store => _store;

    public IServiceProvider Services => _app.Services;

    public async Task InitializeAsync()
    {
        _store = FasterHubStore.Open(TestStores.SmallOptions(_directory.Path), null, Time);
        Policies = await SharedAccessPolicies.LoadOrCreateAsync(_store);
        Registry = new IdentityRegistry(_store, Time);

        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.ConfigureKestrel(k => k.Listen(IPAddress.Loopback, 0, o => o.Protocols = HttpProtocols.Http2));
        builder.Logging.ClearProviders();
        builder.Services.AddSingleton<IHubStore>(_store);
        builder.Services.AddSingleton(Registry);
        builder.Services.AddSingleton(Policies);
        builder.Services.AddSingleton<TimeProvider>(Time);
        builder.Services.AddSingleton<Broker.Core.Hub.ConnectionRegistry>();
        var cloudToDevice = new CloudToDeviceOptions { FeedbackBatchDelay = TimeSpan.Zero };
        builder.Services.AddSingleton(cloudToDevice);
        builder.Services.AddSingleton(provider => new FeedbackQueue(_store, cloudToDevice, Time));
        builder.Services.AddSingleton<Broker.Core.CloudToDevice.CloudToDeviceService>();
        builder.Services.AddSingleton<MethodInvoker>();
        builder.Services.AddSingleton(provider => new Broker.Core.Twins.TwinService(_store, Registry, provider.GetRequiredService<Broker.Core.Hub.ConnectionRegistry>(), Time));
        builder.Services.Configure<HubOptions>(o => o.HostName = HostName);
        builder.Services.AddBrokerManagement();
        _app = builder.Build();
        _app.MapBrokerManagement();
        await _app.StartAsync();

        Address = new Uri(_app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.Single());
        _channel = GrpcChannel.ForAddress(Address);
        RegistryClient = new RegistryService.RegistryServiceClient(_channel);
        PoliciesClient = new PolicyService.PolicyServiceClient(_channel);
        EventsClient = new EventsService.EventsServiceClient(_channel);
    }

    public async Task DisposeAsync()
    {
        _channel.Dispose();
        await _app.StopAsync();
        await _app.DisposeAsync();
        await _store.DisposeAsync();
        _directory.Dispose();
    }

    /// <summary>A policy token as the service SDKs sign it: <c>sr</c> = the host, an hour from now.</summary>
    public string Token(string policyName, string? resource = null, DateTimeOffset? expiresAt = null)
    {
        var policy = Policies.Find(policyName)!;
        return SasTokenBuilder.Create(resource ?? HostName, policy.PrimaryKey, expiresAt ?? Time.GetUtcNow().AddHours(1), policy.KeyName);
    }

    public string ConnectionString(string policyName)
        => $"HostName={HostName};SharedAccessKeyName={policyName};SharedAccessKey={Policies.Find(policyName)!.PrimaryKey}";

    public static CallOptions As(string token) => new(new Metadata { { "authorization", token } });

    public CallOptions AsOwner() => As(Token("iothubowner"));
}
