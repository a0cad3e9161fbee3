using System.Text.Json;
using Broker.Core.Errors;
using Broker.Core.Query;

namespace Broker.Core.Routing;

/// <summary>
/// The hub's routes, compiled: which custom endpoints a device message goes to. Conditions are IoT Hub routing
/// queries (the twin query language's conditions) over the message: application properties by name
/// (case-insensitively), system properties as <c>$messageId</c>, <c>$correlationId</c>, <c>$contentType</c>,
/// <c>$contentEncoding</c>, <c>$userId</c>, <c>$connectionDeviceId</c>, <c>$connectionModuleId</c>,
/// <c>$connectionDeviceGenerationId</c>, <c>$enqueuedTime</c>, and <c>$body</c> for a JSON body sent as
/// <c>application/json</c> in UTF-8. The built-in endpoint <c>events</c> is the events log itself: every message
/// is there whatever the routes say.
/// </summary>
public sealed class MessageRouter
{
    /// <summary>The built-in endpoint's name.</summary>
    public const string BuiltInEndpoint = "events";

    private readonly IReadOnlyList<Route> _routes;

    private MessageRouter(IReadOnlyList<Route> routes)
    {
        _routes = routes;
        Endpoints = routes.SelectMany(static route => route.Endpoints).Distinct(StringComparer.Ordinal).ToList();
    }

    /// <summary>The custom endpoints some enabled route sends to.</summary>
    public IReadOnlyList<string> Endpoints { get; }

    /// <summary>Compiles the enabled routes; throws <see cref="InvalidDataException"/> naming the route that is wrong.</summary>
    public static MessageRouter Compile(RoutingOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var routes = new List<Route>();
        for (int i = 0; i < options.Routes.Count; i++)
        {
            var route = options.Routes[i];
            string where = $"{RoutingOptions.SectionName}:Routes:{i} ({(route.Name.Length == 0 ? "no name" : route.Name)})";
            if (route.Name.Length == 0)
            {
                throw new InvalidDataException($"{where}: a route needs a Name.");
            }

            if (!route.IsEnabled)
            {
                continue;
            }

            if (!string.Equals(route.Source, "DeviceMessages", StringComparison.OrdinalIgnoreCase))
            {
                throw new InvalidDataException($"{where}: Source '{route.Source}' is not routed yet (DeviceMessages is).");
            }

            var endpoints = route.Endpoints.Where(static name => !string.Equals(name, BuiltInEndpoint, StringComparison.Ordinal)).ToList();
            if (route.Endpoints.Count == 0)
            {
                throw new InvalidDataException($"{where}: a route needs at least one endpoint.");
            }

            QueryExpression? condition;
            try
            {
                condition = string.Equals(route.Condition.Trim(), "true", StringComparison.OrdinalIgnoreCase) ? null : QueryParser.ParseCondition(route.Condition);
            }
            catch (IotHubException ex)
            {
                throw new InvalidDataException($"{where}: {ex.Message}", ex);
            }

            routes.Add(new Route(route.Name, condition, endpoints));
        }

        return new MessageRouter(routes);
    }

    /// <summary>Whether any route to <paramref name="endpoint"/> needs the message document (its condition is not <c>true</c>).</summary>
    internal bool NeedsDocument(string endpoint) => _routes.Any(route => route.Condition is not null && route.Endpoints.Contains(endpoint));

    /// <summary>Whether a route sends the message (as <paramref name="document"/>, or null if not needed) to <paramref name="endpoint"/>.</summary>
    internal bool Matches(string endpoint, JsonElement? document)
    {
        foreach (var route in _routes)
        {
            if (route.Endpoints.Contains(endpoint)
                && (route.Condition is null || (document is { } element && route.Condition.Evaluate(element).IsTrue)))
            {
                return true; // one copy per endpoint, however many routes select the message
            }
        }

        return false;
    }

    private sealed record Route(string Name, QueryExpression? Condition, List<string> Endpoints);
}
