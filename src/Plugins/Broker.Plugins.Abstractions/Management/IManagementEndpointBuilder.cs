namespace Broker.Plugins.Management;

/// <summary>Collects the routes of an <see cref="IManagementSurface"/>; implemented by the host.</summary>
public interface IManagementEndpointBuilder
{
    /// <summary>Adds an endpoint.</summary>
    /// <param name="method">The HTTP method (<c>GET</c>, <c>PUT</c>, <c>POST</c>, <c>PATCH</c>, <c>DELETE</c>).</param>
    /// <param name="pattern">
    /// A route template relative to the prefix the host gives plug-in endpoints (<c>/plugins/</c>), with
    /// <c>{name}</c> parameters: <c>allow-list/{deviceId}</c>. Two surfaces mapping the same method and
    /// pattern stop the host from starting.
    /// </param>
    /// <param name="requiredPermissions">What the caller's shared access policy must grant; the host answers 401 otherwise.</param>
    /// <param name="handler">Answers the requests.</param>
    void Map(string method, string pattern, ManagementPermissions requiredPermissions, ManagementRequestHandler handler);
}
