using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Routing;

namespace Broker.Management;

/// <summary>
/// Adds ASP.NET Core endpoints (gRPC services) to the management listener. A host-internal hook for built-in plug-ins
/// that share the host's assemblies (the ManagementApi plug-in registers one); third-party plug-ins use the
/// contract's <c>IManagementSurface</c>, which never exposes ASP.NET Core.
/// </summary>
/// <remarks>
/// The host maps every registered contributor after routing and confines all its endpoints to the management
/// listener, whatever other HTTP listeners exist.
/// </remarks>
public interface IManagementEndpointContributor
{
    /// <summary>Maps the endpoints; the returned builder must apply to all of them, so the host can add its conventions.</summary>
    IEndpointConventionBuilder MapEndpoints(IEndpointRouteBuilder endpoints);
}
