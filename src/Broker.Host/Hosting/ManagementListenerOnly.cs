using Microsoft.AspNetCore.Http;

namespace Broker.Host.Hosting;

/// <summary>
/// Marks endpoints served on the management listener only. Kestrel runs one HTTP pipeline for every HTTP listener,
/// so once a public one (HTTPS) exists, the management API would answer there too; the Host header cannot tell
/// them apart (a client chooses it), the local port can.
/// </summary>
internal sealed class ManagementListenerOnly
{
    public static readonly ManagementListenerOnly Instance = new();

    private ManagementListenerOnly()
    {
    }

    /// <summary>Middleware (after routing) that answers 404 for a marked endpoint reached through another listener.</summary>
    public static Func<HttpContext, RequestDelegate, Task> Guard(BrokerEndpoints endpoints) => (context, next) =>
    {
        if (context.GetEndpoint()?.Metadata.GetMetadata<ManagementListenerOnly>() is not null
            && context.Connection.LocalPort != endpoints.GetEndPoint(BrokerListener.Management)?.Port)
        {
            context.Response.StatusCode = StatusCodes.Status404NotFound;
            return Task.CompletedTask;
        }

        return next(context);
    };
}
