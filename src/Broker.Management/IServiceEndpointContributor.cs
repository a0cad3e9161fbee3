using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Routing;

namespace Broker.Management;

/// <summary>
/// Adds endpoints to the public HTTPS listener: IoT Hub's service REST API, which the official service SDKs call.
/// A host-internal hook for built-in plug-ins that share the host's assemblies (the ManagementApi plug-in registers
/// one), as <see cref="IManagementEndpointContributor"/> is for the management listener.
/// </summary>
/// <remarks>The host maps every registered contributor when the HTTPS listener opens and confines its endpoints to it.</remarks>
public interface IServiceEndpointContributor
{
    /// <summary>Maps the endpoints; the returned builder must apply to all of them, so the host can add its conventions.</summary>
    IEndpointConventionBuilder MapEndpoints(IEndpointRouteBuilder endpoints);
}
