using Broker.Core.CloudToDevice;
using Broker.Core.Hub;
using Broker.Core.Jobs;
using Broker.Core.Methods;
using Broker.Core.Query;
using Broker.Core.Routing;
using Broker.Core.Registry;
using Broker.Core.Security;
using Broker.Core.Storage;
using Broker.Core.Twins;
using Broker.Host.DeviceApi;
using Broker.Host.Plugins;
using Broker.Host.Routing;
using Broker.Plugins.Authentication;
using Broker.Plugins.Loading;
using Broker.Host.Security;
using Broker.Host.WebSockets;
using Broker.Management;
using Broker.Protocols.Amqp.IotHub;
using Broker.Protocols.Amqp.Server;
using Broker.Protocols.Mqtt.IotHub;
using Broker.Protocols.Mqtt.Server;
using Broker.Storage.Faster;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Broker.Host.Hosting;

/// <summary>
/// The broker as a library: the hub (store, registry, authentication, connections) composed on the generic host
/// with its Kestrel listeners. The <c>broker</c> executable only parses arguments and runs one; tests start one
/// in-process on free ports.
/// </summary>
/// <remarks>
/// The server owns what must exist before the host is built (building it creates Kestrel, its listeners and the
/// MQTT handler with everything that handler depends on): the logger factory, the store, the shared access
/// policies and the TLS certificate. Shutdown runs in order: stop accepting, close connections, dispose the
/// host's services, then dispose the store, which finishes pending acknowledgements.
/// </remarks>
public sealed class BrokerServer : IAsyncDisposable
{
    private readonly WebApplication _app;
    private readonly FasterHubStore _store;
    private readonly ServerCertificate? _certificate;
    private readonly ILoggerFactory _loggerFactory;
    private readonly ILogger _logger;
    private int _started;
    private int _stopped;
    private int _disposed;

    private BrokerServer(WebApplication app, FasterHubStore store, ServerCertificate? certificate, ILoggerFactory loggerFactory,
        BrokerEndpoints endpoints, string hostName)
    {
        _app = app;
        _store = store;
        _certificate = certificate;
        _loggerFactory = loggerFactory;
        _logger = loggerFactory.CreateLogger("Broker.Host");
        Endpoints = endpoints;
        HostName = hostName;
    }

    /// <summary>The hub's services (identity registry, store, connection registry...).</summary>
    public IServiceProvider Services => _app.Services;

    /// <summary>The listeners and, once started, their bound addresses.</summary>
    public BrokerEndpoints Endpoints { get; }

    /// <summary>The full path of the data directory.</summary>
    public string DataDirectory => _store.DataDirectory;

    /// <summary>The hub's host name.</summary>
    public string HostName { get; }

    /// <summary>The PEM file of the broker's own CA that TLS clients trust; null without TLS listeners or with a configured certificate.</summary>
    public string? CertificateAuthorityPath => _certificate?.AuthorityPath;

    /// <summary>
    /// Reads the configuration, opens (or creates) the store, loads the shared access policies and the TLS
    /// certificate, and composes the hub; the listeners open in <see cref="StartAsync"/>.
    /// </summary>
    public static async Task<BrokerServer> CreateAsync(BrokerServerSettings settings, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(settings);
        // reloadConfigOnChange=false: otherwise the default appsettings sources (cleared below) leave a recursive
        // FileSystemWatcher on the working directory, which holds ./data by default, so every log write and fsync woke it.
        var builder = WebApplication.CreateBuilder(new WebApplicationOptions { Args = ["--hostBuilder:reloadConfigOnChange=false"] });

        // The broker's own sources only: ASP.NET's defaults would also read every unprefixed environment variable.
        builder.Configuration.Sources.Clear();
        builder.Configuration.AddBrokerSources(settings);
        var configuration = builder.Configuration;

        var listenerOptions = configuration.GetSection(BrokerListenerOptions.SectionName).Get<BrokerListenerOptions>() ?? new BrokerListenerOptions();
        listenerOptions.Validate();
        var limits = configuration.GetSection(BrokerLimitsOptions.SectionName).Get<BrokerLimitsOptions>() ?? new BrokerLimitsOptions();
        limits.Validate();
        var tls = configuration.GetSection(TlsOptions.SectionName).Get<TlsOptions>() ?? new TlsOptions();
        var storeOptions = configuration.GetSection("Storage").Get<FasterStoreOptions>() ?? new FasterStoreOptions();
        storeOptions.DataDirectory = Path.GetFullPath(storeOptions.DataDirectory);
        var hub = configuration.GetSection("Hub").Get<HubOptions>() ?? new HubOptions();
        if (Uri.CheckHostName(hub.HostName) is not (UriHostNameType.Dns or UriHostNameType.IPv4 or UriHostNameType.IPv6))
        {
            throw new InvalidDataException($"Hub:HostName '{hub.HostName}' is not a host name or IP address.");
        }

        var endpoints = new BrokerEndpoints();
        var listeners = new KestrelListeners(listenerOptions, limits, endpoints);
        if (!Enum.GetValues<BrokerListener>().Any(listeners.WillOpen))
        {
            // Kestrel would otherwise fall back to http://localhost:5000, which is not a broker listener.
            throw new InvalidDataException("Every listener is turned off (port 0); nothing to serve.");
        }

        var loggerFactory = CreateLoggerFactory(configuration, settings);
        var logger = loggerFactory.CreateLogger("Broker.Host");
        var time = settings.Time;
        FasterHubStore? store = null;
        WebApplication? app = null;
        try
        {
            // The store first: it makes the data directory ours (and recovers it) before anything else is written there.
            store = FasterHubStore.Open(storeOptions, loggerFactory, time);
            HostLog.StoreOpened(logger, store.DataDirectory, store.PartitionCount, hub.HostName);
            var policies = await SharedAccessPolicies.LoadOrCreateAsync(store, cancellationToken).ConfigureAwait(false);
            if (listeners.NeedsCertificate)
            {
                listeners.Certificate = ServerCertificateLoader.Load(tls, store.DataDirectory, hub.HostName, time, logger);
            }

            builder.Logging.ClearProviders();
            var services = builder.Services;
            services.AddSingleton(loggerFactory);
            services.AddSingleton(time);
            services.AddSingleton(endpoints);
            services.AddSingleton(Options.Create(hub));
            services.AddSingleton<IHubStore>(store);
            services.AddSingleton(policies);
            services.AddSingleton(provider => new IdentityRegistry(provider.GetRequiredService<IHubStore>(), time));
            // Plug-ins load before the host's container is built, so their services join it.
            // The built-in ones (device authentication, the management API) included: they are required, so a broken
            // installation stops here with the missing plug-in's name.
            var plugins = new PluginLoader(configuration, loggerFactory).Load(BrokerPlugins.DirectoryOf(configuration),
                BrokerPlugins.BuiltIn(settings.BuiltInPluginsDirectory));
            foreach (var plugin in plugins.Plugins)
            {
                HostLog.PluginLoaded(logger, plugin.Name, plugin.Version, plugin.Directory, plugin.Manifest.EntryType);
            }

            plugins.ConfigureServices(services);
            services.AddSingleton(plugins);
            services.AddSingleton<IDeviceAuthenticator>(provider => new PluginChainAuthenticator(
                provider.GetServices<IDeviceAuthenticationProvider>(),
                // The DeviceAuth plug-in's SAS / X.509 authenticator decides when no provider does.
                provider.GetRequiredKeyedService<IDeviceAuthenticator>(DeviceAuthenticatorKeys.BuiltIn),
                hub.HostName,
                loggerFactory.CreateLogger("Broker.Host.Plugins")));
            services.AddSingleton<ConnectionRegistry>();
            var cloudToDevice = configuration.GetSection(CloudToDeviceOptions.SectionName).Get<CloudToDeviceOptions>() ?? new CloudToDeviceOptions();
            cloudToDevice.Validate();
            services.AddSingleton(cloudToDevice);
            services.AddSingleton(provider => new FeedbackQueue(provider.GetRequiredService<IHubStore>(), cloudToDevice, time));
            services.AddSingleton<CloudToDeviceService>();
            services.AddSingleton<MethodInvoker>();
            services.AddSingleton(provider =>
            {
                var queues = provider.GetRequiredService<CloudToDeviceService>();
                return new TwinService(provider.GetRequiredService<IHubStore>(), provider.GetRequiredService<IdentityRegistry>(),
                    provider.GetRequiredService<ConnectionRegistry>(), time, (deviceId, moduleId) => moduleId is null ? queues.PendingCount(deviceId) : 0);
            });
            services.AddSingleton<TwinQueryService>();
            services.AddSingleton<JobService>();
            services.AddSingleton(configuration.GetSection(RoutingOptions.SectionName).Get<RoutingOptions>() ?? new RoutingOptions());
            services.AddSingleton<RoutingService>();
            services.AddHostedService(provider => provider.GetRequiredService<RoutingService>());
            services.AddSingleton<IotHubHubServices>();
            services.AddOptions<MqttServerOptions>().Bind(configuration.GetSection("Mqtt"));
            services.AddMqttServer<IotHubMqttConnectPolicy>();
            services.AddOptions<AmqpServerOptions>().Bind(configuration.GetSection("Amqp"));
            services.AddIotHubAmqp();
            settings.ConfigureServices?.Invoke(services);
            builder.WebHost.ConfigureKestrel(listeners.Configure);

            app = builder.Build();
            // Resolved now, so a built-in plug-in that registered nothing fails startup rather than the first CONNECT.
            _ = app.Services.GetRequiredService<IDeviceAuthenticator>();
            // Likewise routes and their endpoints' sinks (plug-ins register the sinks).
            _ = app.Services.GetRequiredService<RoutingService>();
            app.UseWebSockets();
            app.UseRouting();
            app.Use(ListenerOnly.Guard(endpoints));
            var contributors = app.Services.GetServices<IManagementEndpointContributor>().ToList();
            if (contributors.Count == 0)
            {
                // The built-in ManagementApi plug-in loaded but mapped nothing: the CLI would find no API to call.
                throw new InvalidOperationException("The built-in ManagementApi plug-in registered no management endpoints.");
            }

            foreach (var contributor in contributors)
            {
                // The management API (the ManagementApi plug-in's gRPC services) answers on the management listener only.
                contributor.MapEndpoints(app).WithMetadata(ListenerOnly.Management);
            }

            if (listeners.WillOpen(BrokerListener.Https))
            {
                IotHubWebSocketEndpoint.Map(app).WithMetadata(ListenerOnly.Https);
                DeviceHttpsEndpoints.Map(app).WithMetadata(ListenerOnly.Https);
                foreach (var contributor in app.Services.GetServices<IServiceEndpointContributor>())
                {
                    // IoT Hub's service REST API (the ManagementApi plug-in's) answers on the public HTTPS listener only.
                    contributor.MapEndpoints(app).WithMetadata(ListenerOnly.Https);
                }
            }

            if (listeners.WillOpen(BrokerListener.Management))
            {
                // The CLI on this machine reads it (mode 600) to call the management API without flags.
                HostLog.LocalCredentialsWritten(logger, LocalCredentials.Write(store.DataDirectory, hub.HostName, policies));
            }

            foreach (var listener in Enum.GetValues<BrokerListener>())
            {
                int port = listenerOptions.PortOf(listener);
                if (port == BrokerListenerOptions.Disabled)
                {
                    HostLog.ListenerOff(logger, listener);
                }
                else if (listener == BrokerListener.Https && listeners.HttpsNotPermitted)
                {
                    HostLog.ListenerNotPermitted(logger, listener, port);
                }
            }

            return new BrokerServer(app, store, listeners.Certificate, loggerFactory, endpoints, hub.HostName);
        }
        catch (Exception exception)
        {
            HostLog.StartFailed(logger, exception);
            if (app is not null)
            {
                await app.DisposeAsync().ConfigureAwait(false);
            }

            if (store is not null)
            {
                await store.DisposeAsync().ConfigureAwait(false);
            }

            listeners.Certificate?.Dispose();
            loggerFactory.Dispose();
            throw;
        }
    }

    /// <summary>Opens the listeners.</summary>
    public async Task StartAsync(CancellationToken cancellationToken = default)
    {
        ObjectDisposedException.ThrowIf(Volatile.Read(ref _disposed) != 0, this);
        if (Interlocked.Exchange(ref _started, 1) != 0)
        {
            throw new InvalidOperationException("The broker was already started.");
        }

        try
        {
            await _app.StartAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (Exception exception) when (exception is not OperationCanceledException)
        {
            HostLog.StartFailed(_logger, exception); // e.g. a port in use
            throw;
        }

        foreach (var listener in Enum.GetValues<BrokerListener>())
        {
            if (Endpoints.GetEndPoint(listener) is { } endPoint)
            {
                HostLog.Listening(_logger, listener, $"{SchemeOf(listener)}://{endPoint}");
            }
        }
    }

    /// <summary>Starts, then waits until the process is asked to stop (SIGINT, SIGTERM) or <paramref name="cancellationToken"/> fires, then stops.</summary>
    public async Task RunAsync(CancellationToken cancellationToken = default)
    {
        await StartAsync(cancellationToken).ConfigureAwait(false);
        var lifetime = Services.GetRequiredService<IHostApplicationLifetime>();
        var stopping = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        using (lifetime.ApplicationStopping.Register(static state => ((TaskCompletionSource)state!).TrySetResult(), stopping))
        using (cancellationToken.Register(static state => ((TaskCompletionSource)state!).TrySetResult(), stopping))
        {
            await stopping.Task.ConfigureAwait(false);
        }

        await StopAsync(CancellationToken.None).ConfigureAwait(false);
    }

    /// <summary>
    /// Stops accepting and closes every connection; the store stays open until <see cref="DisposeAsync"/>.
    /// <paramref name="cancellationToken"/> cuts the wait for connections short (the host's shutdown timeout bounds it otherwise).
    /// </summary>
    public async Task StopAsync(CancellationToken cancellationToken = default)
    {
        if (Volatile.Read(ref _started) == 0 || Interlocked.Exchange(ref _stopped, 1) != 0)
        {
            return;
        }

        HostLog.Stopping(_logger);
        await _app.StopAsync(cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Stops if running, disposes the host's services, then the store (finishing pending acknowledgements).</summary>
    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        try
        {
            await StopAsync(CancellationToken.None).ConfigureAwait(false);
            await _app.DisposeAsync().ConfigureAwait(false);
        }
        finally
        {
            // Nothing that could append to the store is left running at this point.
            HostLog.ClosingStore(_logger);
            await _store.DisposeAsync().ConfigureAwait(false);
            _certificate?.Dispose();
            HostLog.Stopped(_logger);
            _loggerFactory.Dispose();
        }
    }

    private static ILoggerFactory CreateLoggerFactory(IConfiguration configuration, BrokerServerSettings settings)
        => LoggerFactory.Create(logging =>
        {
            logging.AddConfiguration(configuration.GetSection("Logging"));
            if (settings.ConfigureLogging is { } configureLogging)
            {
                configureLogging(logging);
            }
            else
            {
                logging.AddConsole();
            }
        });

    private static string SchemeOf(BrokerListener listener) => listener switch
    {
        BrokerListener.Mqtt => "mqtt",
        BrokerListener.Mqtts => "mqtts",
        BrokerListener.Amqp => "amqp",
        BrokerListener.Amqps => "amqps",
        BrokerListener.Https => "https",
        _ => "http",
    };
}
