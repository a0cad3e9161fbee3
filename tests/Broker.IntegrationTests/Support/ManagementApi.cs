using Broker.Core.Security;
using Broker.Management;
using Broker.Management.V1;
using Grpc.Core;
using Grpc.Net.Client;

namespace Broker.IntegrationTests.Support;

/// <summary>
/// The management API of a running broker as a service would call it: an h2c channel to the management port and
/// an <c>iothubowner</c> token signed from the connection string the broker leaves in its data directory.
/// </summary>
internal sealed class ManagementApi : IDisposable
{
    private readonly GrpcChannel _channel;
    private readonly Metadata _headers;

    private ManagementApi(int managementPort, string token)
    {
        _channel = GrpcChannel.ForAddress(new Uri($"http://127.0.0.1:{managementPort}"));
        _headers = new Metadata { { "authorization", token } };
        Events = new EventsService.EventsServiceClient(_channel);
        Registry = new RegistryService.RegistryServiceClient(_channel);
        CloudToDevice = new CloudToDeviceService.CloudToDeviceServiceClient(_channel);
        Methods = new MethodService.MethodServiceClient(_channel);
        Twins = new TwinService.TwinServiceClient(_channel);
    }

    public EventsService.EventsServiceClient Events { get; }

    public RegistryService.RegistryServiceClient Registry { get; }

    public CloudToDeviceService.CloudToDeviceServiceClient CloudToDevice { get; }

    public MethodService.MethodServiceClient Methods { get; }

    public TwinService.TwinServiceClient Twins { get; }

    /// <summary>Options of a streaming call: the token, cancelled by <paramref name="cancellationToken"/>.</summary>
    public CallOptions Stream(CancellationToken cancellationToken) => new(_headers, cancellationToken: cancellationToken);

    /// <summary>Connects to <paramref name="broker"/>.</summary>
    public static ManagementApi Connect(Broker.Host.Tests.Support.TestBroker broker) => Connect(broker.DataDirectory, broker.ManagementPort);

    /// <summary>Connects to the broker listening on <paramref name="managementPort"/> with the credentials in <paramref name="dataDirectory"/>.</summary>
    public static ManagementApi Connect(string dataDirectory, int managementPort)
    {
        Assert.True(LocalCredentials.TryRead(dataDirectory, out var connectionString), "the broker wrote no iothubowner connection string");
        var pairs = connectionString.Split(';', StringSplitOptions.RemoveEmptyEntries)
            .Select(part => part.Split('=', 2))
            .ToDictionary(pair => pair[0], pair => pair[1], StringComparer.OrdinalIgnoreCase);
        var token = SasTokenBuilder.Create(pairs["HostName"], pairs["SharedAccessKey"], DateTimeOffset.UtcNow.AddHours(1), pairs["SharedAccessKeyName"]);
        return new ManagementApi(managementPort, token);
    }

    /// <summary>Registers a device with generated keys through the registry API and returns its primary key.</summary>
    public async Task<string> CreateDeviceAsync(string deviceId)
    {
        var reply = await Registry.CreateDeviceAsync(new CreateDeviceRequest { DeviceJson = $"{{\"deviceId\":\"{deviceId}\"}}" }, Call());
        using var json = System.Text.Json.JsonDocument.Parse(reply.DeviceJson);
        return json.RootElement.GetProperty("authentication").GetProperty("symmetricKey").GetProperty("primaryKey").GetString()!;
    }

    /// <summary>Options of a unary call: the token and a deadline.</summary>
    public CallOptions Call(CancellationToken cancellationToken = default)
        => new(_headers, DateTime.UtcNow.AddSeconds(30), cancellationToken);

    /// <summary>
    /// Reads events until <paramref name="done"/> says the collected list is complete, failing after
    /// <paramref name="bound"/> instead of hanging (the stream never ends by itself).
    /// </summary>
    public async Task<List<EventMessage>> ReadAsync(ReadEventsRequest request, Func<List<EventMessage>, bool> done, TimeSpan bound)
    {
        using var timeout = new CancellationTokenSource(bound);
        using var call = Events.ReadEvents(request, new CallOptions(_headers, cancellationToken: timeout.Token));
        var events = new List<EventMessage>();
        try
        {
            while (!done(events))
            {
                Assert.True(await call.ResponseStream.MoveNext(timeout.Token), "the event stream ended");
                events.Add(call.ResponseStream.Current);
            }
        }
        catch (RpcException exception) when (exception.StatusCode == StatusCode.Cancelled && timeout.IsCancellationRequested)
        {
            Assert.Fail($"after {bound} only {events.Count} events were read");
        }

        return events;
    }

    /// <summary>Reads the first <paramref name="count"/> events (a tailing stream cannot say that no more will come; callers check the store's totals).</summary>
    public Task<List<EventMessage>> ReadCountAsync(ReadEventsRequest request, int count, TimeSpan bound)
        => ReadAsync(request, events => events.Count >= count, bound);

    public void Dispose() => _channel.Dispose();
}
