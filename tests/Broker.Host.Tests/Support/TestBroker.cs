using System.Globalization;
using System.Security.Cryptography.X509Certificates;
using Broker.Core.Registry;
using Broker.Core.Security;
using Broker.Host.Hosting;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Broker.Host.Tests.Support;

/// <summary>
/// A real broker in this process: every listener on a free loopback port, a temporary data directory, and (unless
/// asked) no appsettings.json or BROKER_ variables from the machine. Dispose stops it and deletes the directory.
/// </summary>
/// <example>
/// <code>
/// await using var broker = await TestBroker.StartAsync();
/// var device = await broker.CreateDeviceAsync("dev1");
/// var token = broker.CreateSasToken("dev1", TestBroker.PrimaryKeyOf(device));
/// // connect to 127.0.0.1:broker.MqttPort, or broker.MqttsPort trusting broker.CertificateAuthorityPath
/// </code>
/// </example>
public sealed class TestBroker : IAsyncDisposable
{
    /// <summary>The api-version the Azure IoT SDKs put in the MQTT user name.</summary>
    public const string ApiVersion = "2021-04-12";

    private readonly TestBrokerOptions _options;
    private readonly bool _ownsDirectory;
    private BrokerServer _server;

    private TestBroker(TestBrokerOptions options, string dataDirectory, bool ownsDirectory, BrokerServer server)
    {
        _options = options;
        DataDirectory = dataDirectory;
        _ownsDirectory = ownsDirectory;
        _server = server;
    }

    /// <summary>The running server.</summary>
    public BrokerServer Server => _server;

    /// <summary>The hub's services.</summary>
    public IServiceProvider Services => _server.Services;

    /// <summary>The data directory.</summary>
    public string DataDirectory { get; }

    /// <summary>The hub's host name.</summary>
    public string HostName => _server.HostName;

    /// <summary>The MQTT port (plain TCP on 127.0.0.1).</summary>
    public int MqttPort => GetPort(BrokerListener.Mqtt);

    /// <summary>The MQTT over TLS port (127.0.0.1; the certificate names <c>localhost</c>).</summary>
    public int MqttsPort => GetPort(BrokerListener.Mqtts);

    /// <summary>The AMQP port (plain TCP on 127.0.0.1).</summary>
    public int AmqpPort => GetPort(BrokerListener.Amqp);

    /// <summary>The AMQP over TLS port (127.0.0.1; the certificate names <c>localhost</c>).</summary>
    public int AmqpsPort => GetPort(BrokerListener.Amqps);

    /// <summary>The HTTPS port (127.0.0.1; IoT Hub's WebSocket endpoint <c>/$iothub/websocket</c> for MQTT and AMQP).</summary>
    public int HttpsPort => GetPort(BrokerListener.Https);

    /// <summary>The management API port (cleartext HTTP/2 on 127.0.0.1), once the management API is built in.</summary>
    public int ManagementPort => GetPort(BrokerListener.Management);

    /// <summary>The PEM file of the broker's CA, which TLS clients trust.</summary>
    public string CertificateAuthorityPath
        => _server.CertificateAuthorityPath ?? throw new InvalidOperationException("This broker has no generated CA (no TLS listener, or a configured certificate).");

    /// <summary>The identity registry.</summary>
    public IdentityRegistry Registry => Services.GetRequiredService<IdentityRegistry>();

    /// <summary>Starts a broker; see <see cref="TestBrokerOptions"/>.</summary>
    public static async Task<TestBroker> StartAsync(TestBrokerOptions? options = null, CancellationToken cancellationToken = default)
    {
        options ??= new TestBrokerOptions();
        bool ownsDirectory = options.DataDirectory is null;
        var dataDirectory = options.DataDirectory ?? CreateTemporaryDirectory();
        try
        {
            var server = await StartServerAsync(options, dataDirectory, cancellationToken);
            return new TestBroker(options, dataDirectory, ownsDirectory, server);
        }
        catch
        {
            if (ownsDirectory)
            {
                DeleteDirectory(dataDirectory);
            }

            throw;
        }
    }

    /// <summary>The settings <see cref="StartAsync"/> gives the server (also for tests that drive <see cref="BrokerServer"/> themselves).</summary>
    public static BrokerServerSettings SettingsFor(TestBrokerOptions options, string dataDirectory)
    {
        ArgumentNullException.ThrowIfNull(options);
        var overrides = new Dictionary<string, string?>(StringComparer.OrdinalIgnoreCase)
        {
            [BrokerConfiguration.DataDirectoryKey] = dataDirectory,
            [BrokerConfiguration.HostNameKey] = options.HostName,
            [BrokerConfiguration.BindKey] = "127.0.0.1",
        };
        foreach (var listener in Enum.GetValues<BrokerListener>())
        {
            // Every listener, so tests pick up new protocols as they are built; closed ones are simply not opened.
            overrides[BrokerConfiguration.PortKey(listener)] = BrokerListenerOptions.AnyFreePort.ToString(CultureInfo.InvariantCulture);
        }

        if (options.Partitions is { } partitions)
        {
            overrides[BrokerConfiguration.PartitionCountKey] = partitions.ToString(CultureInfo.InvariantCulture);
        }

        foreach (var (key, value) in options.Settings)
        {
            overrides[key] = value;
        }

        return new BrokerServerSettings
        {
            ConfigFile = options.ConfigFile,
            UseAmbientSources = options.UseAmbientSources,
            Overrides = overrides,
            Time = options.Time ?? TimeProvider.System,
            ConfigureLogging = logging =>
            {
                if (options.Output is { } output)
                {
                    logging.AddProvider(new XunitLoggerProvider(output));
                }
            },
            ConfigureServices = options.ConfigureServices,
            BuiltInPluginsDirectory = options.BuiltInPluginsDirectory,
        };
    }

    /// <summary>The bound port of <paramref name="listener"/>; throws when it is not open.</summary>
    public int GetPort(BrokerListener listener) => _server.Endpoints.GetPort(listener);

    /// <summary>Loads the broker's CA certificate.</summary>
    public X509Certificate2 LoadCertificateAuthority() => X509CertificateLoader.LoadCertificateFromFile(CertificateAuthorityPath);

    /// <summary>Registers an enabled SAS device with generated keys.</summary>
    public async Task<Device> CreateDeviceAsync(string deviceId, CancellationToken cancellationToken = default)
        => await Registry.CreateDeviceAsync(new Device { DeviceId = deviceId, Status = DeviceStatus.Enabled }, cancellationToken);

    /// <summary>The primary key of a SAS device.</summary>
    public static string PrimaryKeyOf(Device device)
    {
        ArgumentNullException.ThrowIfNull(device);
        return device.Authentication?.SymmetricKey?.PrimaryKey ?? throw new InvalidOperationException($"Device {device.DeviceId} has no symmetric key.");
    }

    /// <summary>A device SAS token for this hub, valid for <paramref name="lifetime"/> (default 1 hour).</summary>
    public string CreateSasToken(string deviceId, string base64Key, TimeSpan? lifetime = null)
        => SasTokenBuilder.Create(SasTokenBuilder.ResourceFor(HostName, deviceId), base64Key, DateTimeOffset.UtcNow + (lifetime ?? TimeSpan.FromHours(1)));

    /// <summary>The MQTT user name of a device, as the Azure IoT SDKs send it.</summary>
    public string MqttUserName(string deviceId) => $"{HostName}/{deviceId}/?api-version={ApiVersion}";

    /// <summary>Stops the broker and starts it again on the same data directory (the ports change).</summary>
    public async Task RestartAsync(CancellationToken cancellationToken = default)
    {
        await _server.DisposeAsync();
        _server = await StartServerAsync(_options, DataDirectory, cancellationToken);
    }

    /// <summary>Stops the broker and deletes a temporary data directory.</summary>
    public async ValueTask DisposeAsync()
    {
        try
        {
            await _server.DisposeAsync();
        }
        finally
        {
            if (_ownsDirectory)
            {
                DeleteDirectory(DataDirectory);
            }
        }
    }

    /// <summary>A new empty directory under the temp folder.</summary>
    public static string CreateTemporaryDirectory()
    {
        var path = Path.Combine(Path.GetTempPath(), "broker-tests", Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(path);
        return path;
    }

    /// <summary>Deletes <paramref name="path"/> if it can; leftovers in the temp folder do no harm.</summary>
    public static void DeleteDirectory(string path)
    {
        try
        {
            Directory.Delete(path, recursive: true);
        }
        catch (Exception exception) when (exception is IOException or UnauthorizedAccessException)
        {
        }
    }

    private static async Task<BrokerServer> StartServerAsync(TestBrokerOptions options, string dataDirectory, CancellationToken cancellationToken)
    {
        var server = await BrokerServer.CreateAsync(SettingsFor(options, dataDirectory), cancellationToken);
        try
        {
            await server.StartAsync(cancellationToken);
            return server;
        }
        catch
        {
            await server.DisposeAsync();
            throw;
        }
    }
}
