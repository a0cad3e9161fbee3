using System.Text.Json;
using Broker.Core.Security;
using Broker.Management;
using Broker.Management.V1;
using Grpc.Core;
using Grpc.Net.Client;

namespace Broker.LoadGenerator;

/// <summary>What one device sends in CONNECT (MQTT) or SASL PLAIN (AMQP), and the hub host name its token is for.</summary>
internal sealed record DeviceCredentials(string DeviceId, string UserName, string Password, string HubHost = "localhost");

/// <summary>Creates the load devices and signs their tokens through the broker's management gRPC API.</summary>
internal static class DeviceProvisioner
{
    private const string ApiVersion = "2021-04-12";

    /// <summary>Every call is bounded, so a wedged broker cannot hang a benchmark script.</summary>
    private static readonly TimeSpan CallTimeout = TimeSpan.FromSeconds(30);

    /// <summary>For <c>--no-auth</c> brokers (mosquitto with allow_anonymous): the client id is still the device id.</summary>
    public static DeviceCredentials[] Anonymous(LoadOptions options)
        => [.. Enumerable.Range(0, options.Devices).Select(i => new DeviceCredentials(options.DeviceId(i), "load", "load"))];

    public static async Task<DeviceCredentials[]> ProvisionAsync(
        LoadOptions options, Uri server, string connectionString, TimeSpan tokenLifetime, CancellationToken cancellationToken)
    {
        var policy = ParseConnectionString(connectionString);
        if (!policy.TryGetValue("HostName", out var hubHost) || !policy.TryGetValue("SharedAccessKeyName", out var keyName)
            || !policy.TryGetValue("SharedAccessKey", out var policyKey))
        {
            throw new LoadException("the connection string must be a policy connection string: HostName=…;SharedAccessKeyName=…;SharedAccessKey=…");
        }

        var managementToken = SasTokenBuilder.Create(hubHost, policyKey, DateTimeOffset.UtcNow.AddHours(1), keyName);
        var headers = new Metadata { { ManagementMetadata.Authorization, managementToken } };
        using var channel = GrpcChannel.ForAddress(server);
        var registry = new RegistryService.RegistryServiceClient(channel);
        var expiry = DateTimeOffset.UtcNow + tokenLifetime;
        var result = new DeviceCredentials[options.Devices];
        var created = 0;

        // A few calls at a time: enough to hide the round trip, few enough not to queue behind the broker's startup.
        await Parallel.ForAsync(0, options.Devices, new ParallelOptions { MaxDegreeOfParallelism = 8, CancellationToken = cancellationToken }, async (i, ct) =>
        {
            var deviceId = options.DeviceId(i);
            if (options.CreateDevices)
            {
                try
                {
                    // No authentication section: the registry generates both symmetric keys, as IoT Hub does.
                    var json = JsonSerializer.Serialize(new Dictionary<string, string> { ["deviceId"] = deviceId });
                    await registry.CreateDeviceAsync(new CreateDeviceRequest { DeviceJson = json }, Call(headers, ct)).ConfigureAwait(false);
                    Interlocked.Increment(ref created);
                }
                catch (RpcException e) when (e.StatusCode == StatusCode.AlreadyExists)
                {
                    // Left from an earlier run: reuse it with its existing keys.
                }
            }

            GetDeviceConnectionStringReply reply;
            try
            {
                reply = await registry.GetDeviceConnectionStringAsync(new GetDeviceConnectionStringRequest { DeviceId = deviceId }, Call(headers, ct)).ConfigureAwait(false);
            }
            catch (RpcException e) when (e.StatusCode == StatusCode.NotFound)
            {
                throw new LoadException($"device '{deviceId}' is not registered; pass --create-devices.");
            }

            var device = ParseConnectionString(reply.ConnectionString);
            if (!device.TryGetValue("HostName", out var host) || !device.TryGetValue("SharedAccessKey", out var key))
            {
                throw new LoadException($"device '{deviceId}' has no symmetric key (an X.509 device?); delete it or use another --device-prefix.");
            }

            var token = SasTokenBuilder.Create(SasTokenBuilder.ResourceFor(host, deviceId), key, expiry);
            result[i] = new DeviceCredentials(deviceId, $"{host}/{deviceId}/?api-version={ApiVersion}", token, host);
        }).ConfigureAwait(false);

        if (created > 0)
        {
            Console.Error.WriteLine($"created {created} device(s)");
        }

        return result;
    }

    private static CallOptions Call(Metadata headers, CancellationToken cancellationToken)
        => new(headers, DateTime.UtcNow + CallTimeout, cancellationToken);

    private static Dictionary<string, string> ParseConnectionString(string connectionString)
    {
        var pairs = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
        foreach (var part in connectionString.Split(';', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            // Split at the first '=' only: base64 keys end in '='.
            var equals = part.IndexOf('=', StringComparison.Ordinal);
            if (equals > 0)
            {
                pairs[part[..equals]] = part[(equals + 1)..];
            }
        }

        return pairs;
    }
}

/// <summary>A failure with a message fit for the user; exit code 1.</summary>
internal sealed class LoadException(string message) : Exception(message);
