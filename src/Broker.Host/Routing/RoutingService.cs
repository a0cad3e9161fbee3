using Broker.Core.Routing;
using Broker.Core.Storage;
using Broker.Host.Hosting;
using Broker.Plugins.Routing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Broker.Host.Routing;

/// <summary>
/// Runs an <see cref="EndpointPump"/> for every custom endpoint the routes name, with the sink a plug-in registered
/// under that name. Built when the broker is created, so a bad route or an endpoint without a sink stops startup
/// with a message naming it, instead of failing later.
/// </summary>
internal sealed class RoutingService : BackgroundService
{
    private readonly IReadOnlyList<EndpointPump> _pumps;
    private readonly IHubStore _store;
    private readonly ILogger _logger;

    public RoutingService(RoutingOptions options, IServiceProvider services, IHubStore store, TimeProvider time, ILoggerFactory loggers)
    {
        var router = MessageRouter.Compile(options);
        var logger = loggers.CreateLogger("Broker.Routing");
        _store = store;
        _logger = logger;
        _pumps = router.Endpoints.Select(endpoint => new EndpointPump(endpoint,
            services.GetKeyedService<IEndpointSink>(endpoint)
                ?? throw new InvalidDataException($"Routing endpoint '{endpoint}' has no sink: a plug-in provides one as a keyed IEndpointSink named '{endpoint}'."),
            router, store, time, logger)).ToList();
    }

    /// <summary>How many custom endpoints are served.</summary>
    public int EndpointCount => _pumps.Count;

    /// <summary>
    /// Before the broker reports itself started: forgets endpoints no route names any more, and gives new endpoints
    /// their readers (so messages accepted from then on reach them); then starts the pumps.
    /// </summary>
    public override Task StartAsync(CancellationToken cancellationToken)
    {
        ForgetRemovedEndpoints();
        foreach (var pump in _pumps)
        {
            pump.EnsureReaders();
        }

        return base.StartAsync(cancellationToken);
    }

    protected override Task ExecuteAsync(CancellationToken stoppingToken)
        => Task.WhenAll(_pumps.Select(pump => pump.RunAsync(stoppingToken)));

    // An endpoint no route names any more would otherwise keep its readers, and they would hold back retention forever.
    private void ForgetRemovedEndpoints()
    {
        var served = _pumps.Select(static pump => pump.ReaderName).ToHashSet(StringComparer.Ordinal);
        for (int partition = 0; partition < _store.PartitionCount; partition++)
        {
            var log = _store.GetPartition(partition).Events;
            foreach (string reader in log.ReaderNames.Where(name => name.StartsWith(EndpointPump.ReaderPrefix, StringComparison.Ordinal) && !served.Contains(name)).ToList())
            {
                log.DeleteReader(reader);
                HostLog.RoutingReaderForgotten(_logger, reader[EndpointPump.ReaderPrefix.Length..], partition);
            }
        }
    }
}
