namespace Broker.Plugins.Management;

/// <summary>
/// Adds HTTP endpoints to the broker's management listener. Register implementations as services
/// (<c>services.AddSingleton&lt;IManagementSurface, MySurface&gt;()</c>); the host calls
/// <see cref="MapEndpoints"/> once while it builds its routes.
/// </summary>
/// <remarks>
/// The contract owns the route abstraction (<see cref="IManagementEndpointBuilder"/>) rather than handing out
/// ASP.NET Core's route builder: a plug-in then needs neither ASP.NET Core nor the host's web stack, and the
/// host authenticates every call (policy SAS tokens, as for the rest of the management API) before a
/// handler runs. To act on the hub, a surface takes <see cref="IHubServiceClient"/> from the container.
/// </remarks>
public interface IManagementSurface
{
    /// <summary>Declares the surface's endpoints.</summary>
    /// <param name="endpoints">Collects the routes; only valid during this call.</param>
    void MapEndpoints(IManagementEndpointBuilder endpoints);
}
