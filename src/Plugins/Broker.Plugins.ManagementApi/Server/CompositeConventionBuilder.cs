using Microsoft.AspNetCore.Builder;

namespace Broker.Management.Server;

/// <summary>Applies conventions to every management service at once, e.g. the host's <c>RequireHost("*:8081")</c>.</summary>
internal sealed class CompositeConventionBuilder(IReadOnlyList<IEndpointConventionBuilder> builders) : IEndpointConventionBuilder
{
    public void Add(Action<EndpointBuilder> convention)
    {
        foreach (var builder in builders)
        {
            builder.Add(convention);
        }
    }

    public void Finally(Action<EndpointBuilder> finallyConvention)
    {
        foreach (var builder in builders)
        {
            builder.Finally(finallyConvention);
        }
    }
}
