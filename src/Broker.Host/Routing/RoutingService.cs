using Broker.Core.Routing;
using Broker.Core.Storage;
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

    public RoutingService(RoutingOptions options, IServiceProvider services, IHubStore store, TimeProvider time, ILoggerFactory loggers)
    {
        var router = MessageRouter.Compile(options);
        var logger = loggers.CreateLogger("Broker.Routing");
        _pumps = router.Endpoints.Select(endpoint => new EndpointPump(endpoint,
            services.GetKeyedService<IEndpointSink>(endpoint)
                ?? throw new InvalidDataException($"Routing endpoint '{endpoint}' has no sink: a plug-in provides one as a keyed IEndpointSink named '{endpoint}'."),
            router, store, time, logger)).ToList();
    }

    /// <summary>How many custom endpoints are served.</summary>
    public int EndpointCount => _pumps.Count;

    protected override Task ExecuteAsync(CancellationToken stoppingToken)
        => Task.WhenAll(_pumps.Select(pump => pump.RunAsync(stoppingToken)));
}
