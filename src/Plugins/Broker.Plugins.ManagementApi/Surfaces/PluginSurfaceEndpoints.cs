using System.Globalization;
using Broker.Core.Errors;
using Broker.Core.Hub;
using Broker.Core.Security;
using Broker.Management;
using Broker.Management.Server;
using Broker.Plugins.Management;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Broker.Plugins.ManagementApi.Surfaces;

/// <summary>
/// Maps the plug-ins' <see cref="IManagementSurface"/> routes under <c>/plugins/</c> on the management listener.
/// Every call is authenticated first, as the rest of the management API is: the <c>Authorization</c> header must
/// carry a policy SAS token granting the route's permissions (401 with IoT Hub's error body otherwise). A
/// <see cref="HubServiceException"/> or <see cref="IotHubException"/> from a handler becomes IoT Hub's error answer.
/// </summary>
internal sealed class PluginSurfaceEndpoints(
    IEnumerable<IManagementSurface> surfaces,
    IOptions<HubOptions> hub,
    SharedAccessPolicies policies,
    TimeProvider time,
    ILogger<PluginSurfaceEndpoints> logger) : IManagementEndpointContributor
{
    public const string Prefix = "/plugins/";

    /// <summary>Largest request body a surface is given.</summary>
    public const int MaxBodyBytes = 1024 * 1024;

    private readonly ServiceAuthenticator _authenticator = new(hub.Value.HostName, policies, time);

    public IEndpointConventionBuilder MapEndpoints(IEndpointRouteBuilder endpoints)
    {
        var collector = new Collector();
        foreach (var surface in surfaces)
        {
            surface.MapEndpoints(collector);
        }

        var mapped = new List<IEndpointConventionBuilder>();
        foreach (var route in collector.Routes)
        {
            mapped.Add(endpoints.MapMethods(Prefix + route.Pattern.TrimStart('/'), [route.Method], context => HandleAsync(context, route)));
        }

        return new CompositeConventionBuilder(mapped);
    }

    private async Task HandleAsync(HttpContext context, Route route)
    {
        var response = context.Response;
        try
        {
            string policyName = Authorize(context.Request.Headers.Authorization.ToString(), route.Permissions);
            var body = await IotHubRestRequests.ReadBodyAsync(context.Request, MaxBodyBytes).ConfigureAwait(false);
            var request = new ManagementRequest
            {
                Method = context.Request.Method,
                Path = context.Request.Path.Value ?? "",
                RouteValues = context.Request.RouteValues.ToDictionary(
                    static pair => pair.Key, static pair => Convert.ToString(pair.Value, CultureInfo.InvariantCulture) ?? "", StringComparer.OrdinalIgnoreCase),
                Query = context.Request.Query.ToDictionary(static pair => pair.Key, static pair => pair.Value.ToString(), StringComparer.OrdinalIgnoreCase),
                PolicyName = policyName,
                ContentType = context.Request.ContentType,
                Body = body,
            };
            var answer = await route.Handler(request, context.RequestAborted).ConfigureAwait(false);
            response.StatusCode = answer.StatusCode;
            if (answer.ContentType is not null)
            {
                response.ContentType = answer.ContentType;
            }

            if (!answer.Body.IsEmpty)
            {
                await response.Body.WriteAsync(answer.Body, context.RequestAborted).ConfigureAwait(false);
            }
        }
        catch (HubServiceException ex)
        {
            await WriteErrorAsync(response, ex.ErrorCode, ex.Message).ConfigureAwait(false);
        }
        catch (IotHubException ex)
        {
            await WriteErrorAsync(response, ex.Number, ex.Message).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            ManagementLog.PluginSurfaceFailed(logger, context.Request.Path.Value ?? "", ex);
            await WriteErrorAsync(response, (int)IotHubErrorCode.ServerError, "The plug-in's handler failed.").ConfigureAwait(false);
        }
    }

    private string Authorize(string token, ManagementPermissions permissions)
    {
        if (string.IsNullOrWhiteSpace(token))
        {
            throw ManagementErrors.MissingToken();
        }

        var rights = AccessRights.None;
        rights |= (permissions & ManagementPermissions.RegistryRead) != 0 ? AccessRights.RegistryRead : AccessRights.None;
        rights |= (permissions & ManagementPermissions.RegistryWrite) != 0 ? AccessRights.RegistryWrite : AccessRights.None;
        rights |= (permissions & ManagementPermissions.ServiceConnect) != 0 ? AccessRights.ServiceConnect : AccessRights.None;
        var result = _authenticator.Authenticate(token, rights);
        return result.Status switch
        {
            AuthStatus.Success => result.PolicyName ?? "",
            AuthStatus.Expired => throw ManagementErrors.ExpiredToken(),
            AuthStatus.NotAuthorized => throw ManagementErrors.InsufficientRights(result.PolicyName ?? "", rights.ToString()),
            _ => throw ManagementErrors.BadToken(),
        };
    }

    private Task WriteErrorAsync(HttpResponse response, int errorCode, string message)
        => IotHubRestErrors.WriteAsync(response, errorCode, message, time);

    private sealed record Route(string Method, string Pattern, ManagementPermissions Permissions, ManagementRequestHandler Handler);

    private sealed class Collector : IManagementEndpointBuilder
    {
        private readonly HashSet<(string, string)> _seen = [];

        public List<Route> Routes { get; } = [];

        public void Map(string method, string pattern, ManagementPermissions requiredPermissions, ManagementRequestHandler handler)
        {
            ArgumentException.ThrowIfNullOrWhiteSpace(method);
            ArgumentException.ThrowIfNullOrWhiteSpace(pattern);
            ArgumentNullException.ThrowIfNull(handler);
            string normalizedMethod = method.ToUpperInvariant();
            string normalizedPattern = pattern.Trim('/');
            if (!_seen.Add((normalizedMethod, normalizedPattern.ToUpperInvariant())))
            {
                // Two surfaces answering the same route: refuse to start rather than pick one silently.
                throw new InvalidOperationException($"Two management surfaces map {normalizedMethod} {Prefix}{normalizedPattern}.");
            }

            Routes.Add(new Route(normalizedMethod, normalizedPattern, requiredPermissions, handler));
        }
    }
}
