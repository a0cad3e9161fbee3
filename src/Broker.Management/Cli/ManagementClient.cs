using Broker.Core.Security;
using Broker.Management.V1;
using Grpc.Core;
using Grpc.Net.Client;

namespace Broker.Management.Cli;

/// <summary>A gRPC channel to the management API with the SAS token of one policy connection string.</summary>
internal sealed class ManagementClient : IDisposable
{
    /// <summary>As the service SDKs: a token lives an hour, far longer than any command.</summary>
    private static readonly TimeSpan TokenLifetime = TimeSpan.FromHours(1);

    /// <summary>A command waits this long for the broker, so a wedged server cannot hang a script.</summary>
    private static readonly TimeSpan CallTimeout = TimeSpan.FromSeconds(30);

    private readonly GrpcChannel _channel;
    private readonly Metadata _headers;

    private ManagementClient(Uri server, string hostName, string token)
    {
        // An http:// address is spoken as HTTP/2 with prior knowledge (h2c), which is what the loopback port serves.
        _channel = GrpcChannel.ForAddress(server);
        _headers = new Metadata { { ManagementMetadata.Authorization, token } };
        HostName = hostName;
        Registry = new RegistryService.RegistryServiceClient(_channel);
        Policies = new PolicyService.PolicyServiceClient(_channel);
        Events = new EventsService.EventsServiceClient(_channel);
        CloudToDevice = new V1.CloudToDeviceService.CloudToDeviceServiceClient(_channel);
        Twins = new V1.TwinService.TwinServiceClient(_channel);
        Methods = new MethodService.MethodServiceClient(_channel);
    }

    /// <summary>The hub host name of the connection string.</summary>
    public string HostName { get; }

    public RegistryService.RegistryServiceClient Registry { get; }

    public PolicyService.PolicyServiceClient Policies { get; }

    public EventsService.EventsServiceClient Events { get; }

    public V1.CloudToDeviceService.CloudToDeviceServiceClient CloudToDevice { get; }

    public V1.TwinService.TwinServiceClient Twins { get; }

    public MethodService.MethodServiceClient Methods { get; }

    /// <summary>Connects to <paramref name="server"/> as the policy of <paramref name="connectionString"/>.</summary>
    public static ManagementClient Create(Uri server, string connectionString, TimeProvider time)
    {
        var pairs = ConnectionStrings.TryParse(connectionString);
        if (pairs is null
            || !pairs.TryGetValue("HostName", out var hostName) || hostName.Length == 0
            || !pairs.TryGetValue("SharedAccessKeyName", out var keyName) || keyName.Length == 0
            || !pairs.TryGetValue("SharedAccessKey", out var key) || key.Length == 0)
        {
            throw new CliException("the connection string must be a policy connection string: HostName=…;SharedAccessKeyName=…;SharedAccessKey=…");
        }

        string token;
        try
        {
            token = SasTokenBuilder.Create(hostName, key, time.GetUtcNow() + TokenLifetime, keyName);
        }
        catch (FormatException)
        {
            throw new CliException("the connection string's SharedAccessKey is not base64.");
        }

        return new ManagementClient(server, hostName, token);
    }

    /// <summary>The authorization metadata and deadline every call carries.</summary>
    public CallOptions CallOptions(CancellationToken cancellationToken)
        => new(_headers, DateTime.UtcNow + CallTimeout, cancellationToken);

    /// <summary>The authorization metadata and a deadline of <paramref name="timeout"/> plus the usual margin (direct methods wait for the device).</summary>
    public CallOptions CallOptions(TimeSpan timeout, CancellationToken cancellationToken)
        => new(_headers, DateTime.UtcNow + timeout + CallTimeout, cancellationToken);

    /// <summary>The authorization metadata of a streaming call, which runs until cancelled and so has no deadline.</summary>
    public CallOptions StreamOptions(CancellationToken cancellationToken) => new(_headers, cancellationToken: cancellationToken);

    public void Dispose() => _channel.Dispose();
}
