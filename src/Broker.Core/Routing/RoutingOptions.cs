namespace Broker.Core.Routing;

/// <summary>
/// Message routes (configuration section <c>Routing</c>): each sends the device messages its condition selects to
/// custom endpoints, which plug-ins provide as keyed <c>IEndpointSink</c> services named by endpoint.
/// </summary>
public sealed class RoutingOptions
{
    /// <summary>The configuration section.</summary>
    public const string SectionName = "Routing";

    /// <summary>The routes (<c>Routing:Routes:0:Name</c>, …).</summary>
    public List<RouteOptions> Routes { get; set; } = [];
}

/// <summary>One route: IoT Hub's <c>name</c>, <c>source</c>, <c>condition</c>, <c>endpointNames</c>, <c>isEnabled</c>.</summary>
public sealed class RouteOptions
{
    /// <summary>The route's name (for logs and errors).</summary>
    public string Name { get; set; } = "";

    /// <summary>The message source; only <c>DeviceMessages</c> (telemetry) is routed.</summary>
    public string Source { get; set; } = "DeviceMessages";

    /// <summary>The routing query; <c>true</c> (the default) routes every message.</summary>
    public string Condition { get; set; } = "true";

    /// <summary>The endpoints the route sends to (IoT Hub allows one per route; several are accepted here).</summary>
    public List<string> Endpoints { get; set; } = [];

    /// <summary>Whether the route is in effect.</summary>
    public bool IsEnabled { get; set; } = true;
}
