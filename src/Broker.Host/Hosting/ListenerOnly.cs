using Microsoft.AspNetCore.Http;

namespace Broker.Host.Hosting;

/// <summary>
/// Marks endpoints served on one listener only. Kestrel runs one HTTP pipeline for every HTTP listener, so the
/// management API would also answer on the public HTTPS listener, and IoT Hub's service API and WebSocket endpoint
/// on the management one; the Host header cannot tell them apart (a client chooses it), the local port can.
/// </summary>
internal sealed class ListenerOnly
{
    /// <summary>The loopback management listener (the gRPC management API, plug-in surfaces).</summary>
    public static readonly ListenerOnly Management = new(BrokerListener.Management);

    /// <summary>The public HTTPS listener (IoT Hub's service REST API, the WebSocket endpoint).</summary>
    public static readonly ListenerOnly Https = new(BrokerListener.Https);

    private ListenerOnly(BrokerListener listener) => Listener = listener;

    public BrokerListener Listener { get; }

    /// <summary>Middleware (after routing) that answers 404 for a marked endpoint reached through another listener.</summary>
    public static Func<HttpContext, RequestDelegate, Task> Guard(BrokerEndpoints endpoints) => (context, next) =>
    {
        if (context.GetEndpoint()?.Metadata.GetMetadata<ListenerOnly>() is { } only
            && context.Connection.LocalPort != endpoints.GetEndPoint(only.Listener)?.Port)
        {
            context.Response.StatusCode = StatusCodes.Status404NotFound;
            return Task.CompletedTask;
        }

        return next(context);
    };
}
