using System.Globalization;
using System.Text.Json;
using Broker.Core.CloudToDevice;
using Broker.Core.Errors;
using Broker.Core.Hub;
using Broker.Core.Jobs;
using Broker.Core.Methods;
using Broker.Core.Query;
using Broker.Core.Registry;
using Broker.Core.Security;
using Broker.Core.Twins;
using Broker.Management;
using Broker.Management.Server;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Broker.Plugins.ManagementApi.Rest;

/// <summary>
/// IoT Hub's service REST API on the public HTTPS listener, as the official service SDKs call it
/// (<c>?api-version=</c> on every call, a policy SAS token in <c>Authorization</c>): the identity registry
/// (devices and modules), twins, direct methods and the cloud-to-device purge. Errors are IoT Hub's REST errors.
/// Changes are durable before they are answered (the registry and twin services wait for their commit).
/// </summary>
internal sealed class ServiceRestEndpoints(
    IdentityRegistry registry,
    TwinService twins,
    MethodInvoker methods,
    CloudToDeviceService cloudToDevice,
    TwinQueryService queries,
    JobService jobs,
    ConnectionRegistry connections,
    IOptions<HubOptions> hub,
    SharedAccessPolicies policies,
    TimeProvider time,
    ILogger<ServiceRestEndpoints> logger) : IServiceEndpointContributor
{
    /// <summary>Largest request body read (a twin is at most tags 8 KB + desired 32 KB; a method payload 128 KB).</summary>
    public const int MaxBodyBytes = 256 * 1024;

    private const string JsonContentType = "application/json; charset=utf-8";
    private const string MaxItemCountHeader = "x-ms-max-item-count";
    private const string ContinuationHeader = "x-ms-continuation";
    private const string ItemTypeHeader = "x-ms-item-type";

    private readonly ServiceAuthenticator _authenticator = new(hub.Value.HostName, policies, time);

    private delegate Task Handler(HttpContext context, RouteValueDictionary route);

    public IEndpointConventionBuilder MapEndpoints(IEndpointRouteBuilder endpoints)
    {
        ArgumentNullException.ThrowIfNull(endpoints);
        return new CompositeConventionBuilder(
        [
            Map(endpoints, "GET", "/devices", AccessRights.RegistryRead, ListDevicesAsync),
            Map(endpoints, "POST", "/devices/query", AccessRights.RegistryRead, QueryAsync),
            Map(endpoints, "PUT", "/devices/{deviceId}", AccessRights.RegistryWrite, PutDeviceAsync),
            Map(endpoints, "GET", "/devices/{deviceId}", AccessRights.RegistryRead, GetDeviceAsync),
            Map(endpoints, "DELETE", "/devices/{deviceId}", AccessRights.RegistryWrite, DeleteDeviceAsync),
            Map(endpoints, "GET", "/devices/{deviceId}/modules", AccessRights.RegistryRead, ListModulesAsync),
            Map(endpoints, "PUT", "/devices/{deviceId}/modules/{moduleId}", AccessRights.RegistryWrite, PutModuleAsync),
            Map(endpoints, "GET", "/devices/{deviceId}/modules/{moduleId}", AccessRights.RegistryRead, GetModuleAsync),
            Map(endpoints, "DELETE", "/devices/{deviceId}/modules/{moduleId}", AccessRights.RegistryWrite, DeleteModuleAsync),
            Map(endpoints, "DELETE", "/devices/{deviceId}/commands", AccessRights.ServiceConnect, PurgeAsync),
            Map(endpoints, "GET", "/twins/{deviceId}", AccessRights.RegistryRead, GetTwinAsync),
            Map(endpoints, "PATCH", "/twins/{deviceId}", AccessRights.ServiceConnect, PatchTwinAsync),
            Map(endpoints, "PUT", "/twins/{deviceId}", AccessRights.ServiceConnect, ReplaceTwinAsync),
            Map(endpoints, "GET", "/twins/{deviceId}/modules/{moduleId}", AccessRights.RegistryRead, GetTwinAsync),
            Map(endpoints, "PATCH", "/twins/{deviceId}/modules/{moduleId}", AccessRights.ServiceConnect, PatchTwinAsync),
            Map(endpoints, "PUT", "/twins/{deviceId}/modules/{moduleId}", AccessRights.ServiceConnect, ReplaceTwinAsync),
            Map(endpoints, "POST", "/twins/{deviceId}/methods", AccessRights.ServiceConnect, InvokeMethodAsync),
            Map(endpoints, "POST", "/twins/{deviceId}/modules/{moduleId}/methods", AccessRights.ServiceConnect, InvokeMethodAsync),
            Map(endpoints, "GET", "/statistics/devices", AccessRights.RegistryRead, DeviceStatisticsAsync),
            Map(endpoints, "PUT", "/jobs/v2/{jobId}", AccessRights.ServiceConnect, CreateJobAsync),
            Map(endpoints, "GET", "/jobs/v2/query", AccessRights.ServiceConnect, QueryJobsAsync),
            Map(endpoints, "GET", "/jobs/v2/{jobId}", AccessRights.ServiceConnect, GetJobAsync),
            Map(endpoints, "POST", "/jobs/v2/{jobId}/cancel", AccessRights.ServiceConnect, CancelJobAsync),
            Map(endpoints, "GET", "/statistics/service", AccessRights.ServiceConnect, ServiceStatisticsAsync),
        ]);
    }

    private IEndpointConventionBuilder Map(IEndpointRouteBuilder endpoints, string method, string pattern, AccessRights rights, Handler handler)
        => endpoints.MapMethods(pattern, [method], context => HandleAsync(context, rights, handler));

    private async Task HandleAsync(HttpContext context, AccessRights rights, Handler handler)
    {
        try
        {
            // The token first, so an anonymous caller learns nothing from the request's other faults.
            Authorize(context.Request, rights);
            IotHubRestRequests.RequireApiVersion(context.Request);

            await handler(context, context.Request.RouteValues).ConfigureAwait(false);
        }
        catch (IotHubException ex)
        {
            await IotHubRestErrors.WriteAsync(context.Response, ex.Number, ex.Message, time).ConfigureAwait(false);
        }
        catch (JsonException ex)
        {
            await IotHubRestErrors.WriteAsync(context.Response, (int)IotHubErrorCode.ArgumentInvalid, "The body is not valid JSON: " + ex.Message, time).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            ManagementLog.RestCallFailed(logger, context.Request.Method, context.Request.Path.Value ?? "", ex);
            await IotHubRestErrors.WriteAsync(context.Response, (int)IotHubErrorCode.ServerError, "The request failed on the hub.", time).ConfigureAwait(false);
        }
    }

    private void Authorize(HttpRequest request, AccessRights rights)
    {
        string token = request.Headers.Authorization.ToString();
        if (string.IsNullOrWhiteSpace(token))
        {
            throw ManagementErrors.MissingToken();
        }

        // A token scoped to {host}/devices/{id} works for that device's calls, as on IoT Hub.
        var result = _authenticator.Authenticate(token, rights, (request.Path.Value ?? "").TrimStart('/'));
        switch (result.Status)
        {
            case AuthStatus.Success:
                return;
            case AuthStatus.Expired:
                throw ManagementErrors.ExpiredToken();
            case AuthStatus.NotAuthorized:
                throw ManagementErrors.InsufficientRights(result.PolicyName ?? "", rights.ToString());
            default:
                throw ManagementErrors.BadToken();
        }
    }

    private async Task ListDevicesAsync(HttpContext context, RouteValueDictionary route)
    {
        int top = IdentityRegistry.MaxListCount;
        if (context.Request.Query["top"] is { Count: > 0 } value
            && (!int.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out top) || top is < 1 or > IdentityRegistry.MaxListCount))
        {
            throw IotHubErrors.ArgumentInvalid($"top must be between 1 and {IdentityRegistry.MaxListCount}.");
        }

        var devices = registry.ListDevices(top).Select(connections.WithConnectionState).ToList();
        await WriteJsonAsync(context.Response, JsonSerializer.SerializeToUtf8Bytes(devices, RegistryJsonContext.Default.ListDevice)).ConfigureAwait(false);
    }

    private async Task CreateJobAsync(HttpContext context, RouteValueDictionary route)
    {
        var request = JsonSerializer.Deserialize(await ReadBodyAsync(context.Request).ConfigureAwait(false), JobJsonContext.Default.JobRequest)
            ?? throw IotHubErrors.ArgumentInvalid("The body must be a job.");
        var job = await jobs.CreateAsync(RouteValue(route, "jobId"), request, context.RequestAborted).ConfigureAwait(false);
        await WriteJsonAsync(context.Response, JsonSerializer.SerializeToUtf8Bytes(job, JobJsonContext.Default.Job)).ConfigureAwait(false);
    }

    private Task GetJobAsync(HttpContext context, RouteValueDictionary route)
        => WriteJsonAsync(context.Response, JsonSerializer.SerializeToUtf8Bytes(jobs.Get(RouteValue(route, "jobId")), JobJsonContext.Default.Job));

    private async Task CancelJobAsync(HttpContext context, RouteValueDictionary route)
    {
        var job = await jobs.CancelAsync(RouteValue(route, "jobId"), context.RequestAborted).ConfigureAwait(false);
        await WriteJsonAsync(context.Response, JsonSerializer.SerializeToUtf8Bytes(job, JobJsonContext.Default.Job)).ConfigureAwait(false);
    }

    // Every matching job in one page: a broker keeps few jobs (IoT Hub keeps 30 days of them).
    private Task QueryJobsAsync(HttpContext context, RouteValueDictionary route)
    {
        var list = jobs.List(context.Request.Query["jobType"], context.Request.Query["jobStatus"]).ToList();
        return WriteJsonAsync(context.Response, JsonSerializer.SerializeToUtf8Bytes(list, JobJsonContext.Default.ListJob));
    }

    private Task DeviceStatisticsAsync(HttpContext context, RouteValueDictionary route)
    {
        var devices = registry.ListAllDevices();
        int enabled = devices.Count(static device => device.Status == DeviceStatus.Enabled);
        return WriteJsonAsync(context.Response, JsonSerializer.SerializeToUtf8Bytes(
            new DeviceStatistics(devices.Count, enabled, devices.Count - enabled), RestJsonContext.Default.DeviceStatistics));
    }

    private Task ServiceStatisticsAsync(HttpContext context, RouteValueDictionary route)
        => WriteJsonAsync(context.Response, JsonSerializer.SerializeToUtf8Bytes(new ServiceStatistics(connections.ConnectedDeviceCount), RestJsonContext.Default.ServiceStatistics));

    private async Task QueryAsync(HttpContext context, RouteValueDictionary route)
    {
        var body = JsonSerializer.Deserialize(await ReadBodyAsync(context.Request).ConfigureAwait(false), RestJsonContext.Default.QueryRequest)
            ?? throw IotHubErrors.ArgumentInvalid("The body must be {\"query\": \"...\"}.");
        int? pageSize = null;
        if (context.Request.Headers[MaxItemCountHeader] is { Count: > 0 } header)
        {
            pageSize = int.TryParse(header, NumberStyles.None, CultureInfo.InvariantCulture, out int size)
                ? size : throw IotHubErrors.ArgumentInvalid($"{MaxItemCountHeader} must be a whole number.");
        }

        var page = queries.Run(body.Query, pageSize, context.Request.Headers[ContinuationHeader].ToString());
        // The service SDKs page on, as long as this header is present.
        if (page.Continuation is not null)
        {
            context.Response.Headers[ContinuationHeader] = page.Continuation;
        }

        context.Response.Headers[ItemTypeHeader] = page.ItemType;
        await WriteJsonAsync(context.Response, page.Json).ConfigureAwait(false);
    }

    private async Task PutDeviceAsync(HttpContext context, RouteValueDictionary route)
    {
        string deviceId = RouteValue(route, "deviceId");
        var device = JsonSerializer.Deserialize(await ReadBodyAsync(context.Request).ConfigureAwait(false), RegistryJsonContext.Default.Device)
            ?? throw IotHubErrors.ArgumentInvalid("The body must be a device.");
        device = SameIdentity(device, device.DeviceId, deviceId, null, null) ? device with { DeviceId = deviceId } : throw Mismatch();

        // IoT Hub's PUT: no If-Match creates (409001 if the id exists), an If-Match updates.
        string? ifMatch = IfMatchOf(context.Request);
        var stored = ifMatch is null
            ? await registry.CreateDeviceAsync(device, context.RequestAborted).ConfigureAwait(false)
            : await registry.UpdateDeviceAsync(device, ifMatch, context.RequestAborted).ConfigureAwait(false);
        await WriteDeviceAsync(context.Response, connections.WithConnectionState(stored)).ConfigureAwait(false);
    }

    private Task GetDeviceAsync(HttpContext context, RouteValueDictionary route)
        => WriteDeviceAsync(context.Response, connections.WithConnectionState(registry.GetDevice(RouteValue(route, "deviceId"))));

    private async Task DeleteDeviceAsync(HttpContext context, RouteValueDictionary route)
    {
        await registry.DeleteDeviceAsync(RouteValue(route, "deviceId"), IfMatchOf(context.Request), context.RequestAborted).ConfigureAwait(false);
        context.Response.StatusCode = StatusCodes.Status204NoContent;
    }

    private async Task ListModulesAsync(HttpContext context, RouteValueDictionary route)
    {
        var modules = registry.ListModules(RouteValue(route, "deviceId")).ToList();
        await WriteJsonAsync(context.Response, JsonSerializer.SerializeToUtf8Bytes(modules, RegistryJsonContext.Default.ListModule)).ConfigureAwait(false);
    }

    private async Task PutModuleAsync(HttpContext context, RouteValueDictionary route)
    {
        string deviceId = RouteValue(route, "deviceId");
        string moduleId = RouteValue(route, "moduleId");
        var module = JsonSerializer.Deserialize(await ReadBodyAsync(context.Request).ConfigureAwait(false), RegistryJsonContext.Default.Module)
            ?? throw IotHubErrors.ArgumentInvalid("The body must be a module.");
        module = SameIdentity(module, module.DeviceId, deviceId, module.ModuleId, moduleId) ? module with { DeviceId = deviceId, ModuleId = moduleId } : throw Mismatch();
        string? ifMatch = IfMatchOf(context.Request);
        var stored = ifMatch is null
            ? await registry.CreateModuleAsync(module, context.RequestAborted).ConfigureAwait(false)
            : await registry.UpdateModuleAsync(module, ifMatch, context.RequestAborted).ConfigureAwait(false);
        await WriteModuleAsync(context.Response, stored).ConfigureAwait(false);
    }

    private Task GetModuleAsync(HttpContext context, RouteValueDictionary route)
        => WriteModuleAsync(context.Response, registry.GetModule(RouteValue(route, "deviceId"), RouteValue(route, "moduleId")));

    private async Task DeleteModuleAsync(HttpContext context, RouteValueDictionary route)
    {
        await registry.DeleteModuleAsync(RouteValue(route, "deviceId"), RouteValue(route, "moduleId"), IfMatchOf(context.Request), context.RequestAborted).ConfigureAwait(false);
        context.Response.StatusCode = StatusCodes.Status204NoContent;
    }

    private async Task PurgeAsync(HttpContext context, RouteValueDictionary route)
    {
        string deviceId = RouteValue(route, "deviceId");
        int purged = await cloudToDevice.PurgeAsync(deviceId, context.RequestAborted).ConfigureAwait(false);
        await WriteJsonAsync(context.Response, JsonSerializer.SerializeToUtf8Bytes(new PurgeResult(purged, deviceId, null), RestJsonContext.Default.PurgeResult)).ConfigureAwait(false);
    }

    private Task GetTwinAsync(HttpContext context, RouteValueDictionary route)
        => WriteTwinAsync(context.Response, twins.GetTwin(RouteValue(route, "deviceId"), OptionalRouteValue(route, "moduleId")));

    private async Task PatchTwinAsync(HttpContext context, RouteValueDictionary route)
    {
        var body = await ReadBodyAsync(context.Request).ConfigureAwait(false);
        var twin = await twins.UpdateTwinAsync(RouteValue(route, "deviceId"), OptionalRouteValue(route, "moduleId"), body, IfMatchOf(context.Request), context.RequestAborted).ConfigureAwait(false);
        await WriteTwinAsync(context.Response, twin).ConfigureAwait(false);
    }

    private async Task ReplaceTwinAsync(HttpContext context, RouteValueDictionary route)
    {
        var body = await ReadBodyAsync(context.Request).ConfigureAwait(false);
        var twin = await twins.ReplaceTwinAsync(RouteValue(route, "deviceId"), OptionalRouteValue(route, "moduleId"), body, IfMatchOf(context.Request), context.RequestAborted).ConfigureAwait(false);
        await WriteTwinAsync(context.Response, twin).ConfigureAwait(false);
    }

    private async Task InvokeMethodAsync(HttpContext context, RouteValueDictionary route)
    {
        var call = JsonSerializer.Deserialize(await ReadBodyAsync(context.Request).ConfigureAwait(false), RestJsonContext.Default.MethodCall)
            ?? throw IotHubErrors.ArgumentInvalid("The body must be a method call.");
        var result = await methods.InvokeAsync(new MethodRequest
        {
            DeviceId = RouteValue(route, "deviceId"),
            ModuleId = OptionalRouteValue(route, "moduleId"),
            MethodName = call.MethodName ?? "",
            Payload = call.Payload.ValueKind == JsonValueKind.Undefined ? "null"u8.ToArray() : JsonSerializer.SerializeToUtf8Bytes(call.Payload, RestJsonContext.Default.JsonElement),
            ResponseTimeout = TimeSpan.FromSeconds(call.ResponseTimeoutInSeconds ?? 30),
            ConnectTimeout = TimeSpan.FromSeconds(call.ConnectTimeoutInSeconds ?? 0),
        }, context.RequestAborted).ConfigureAwait(false);

        // The device's status is not the HTTP status: IoT Hub answers 200 with {status, payload}.
        using var buffer = new MemoryStream();
        await using (var writer = new Utf8JsonWriter(buffer))
        {
            writer.WriteStartObject();
            writer.WriteNumber("status", result.Status);
            writer.WritePropertyName("payload");
            if (result.Payload is null || result.Payload.Length == 0)
            {
                writer.WriteNullValue();
            }
            else
            {
                writer.WriteRawValue(result.Payload, skipInputValidation: false);
            }

            writer.WriteEndObject();
        }

        await WriteJsonAsync(context.Response, buffer.ToArray()).ConfigureAwait(false);
    }

    private static bool SameIdentity<T>(T body, string? bodyDeviceId, string deviceId, string? bodyModuleId, string? moduleId)
        => body is not null
            && (string.IsNullOrEmpty(bodyDeviceId) || bodyDeviceId == deviceId)
            && (moduleId is null || string.IsNullOrEmpty(bodyModuleId) || bodyModuleId == moduleId);

    private static IotHubException Mismatch() => IotHubErrors.ArgumentInvalid("The identity in the body does not match the one in the path.");

    private static string RouteValue(RouteValueDictionary route, string name)
        => OptionalRouteValue(route, name) ?? throw IotHubErrors.ArgumentInvalid($"{name} is required.");

    private static string? OptionalRouteValue(RouteValueDictionary route, string name)
        => route.TryGetValue(name, out var value) && value is string text && text.Length > 0 ? text : null;

    private static string? IfMatchOf(HttpRequest request)
        => request.Headers.IfMatch.Count == 0 || string.IsNullOrWhiteSpace(request.Headers.IfMatch.ToString()) ? null : request.Headers.IfMatch.ToString();

    private static async Task<byte[]> ReadBodyAsync(HttpRequest request)
    {
        var body = await IotHubRestRequests.ReadBodyAsync(request, MaxBodyBytes).ConfigureAwait(false);
        return body.Length == 0 ? throw IotHubErrors.ArgumentInvalid("The request has no body.") : body;
    }

    private static Task WriteDeviceAsync(HttpResponse response, Device device)
    {
        response.Headers.ETag = $"\"{device.ETag}\"";
        return WriteJsonAsync(response, JsonSerializer.SerializeToUtf8Bytes(device, RegistryJsonContext.Default.Device));
    }

    private static Task WriteModuleAsync(HttpResponse response, Module module)
    {
        response.Headers.ETag = $"\"{module.ETag}\"";
        return WriteJsonAsync(response, JsonSerializer.SerializeToUtf8Bytes(module, RegistryJsonContext.Default.Module));
    }

    private static Task WriteTwinAsync(HttpResponse response, byte[] twin)
    {
        using (var document = JsonDocument.Parse(twin))
        {
            if (document.RootElement.TryGetProperty("etag", out var etag) && etag.ValueKind == JsonValueKind.String)
            {
                response.Headers.ETag = $"\"{etag.GetString()}\"";
            }
        }

        return WriteJsonAsync(response, twin);
    }

    private static async Task WriteJsonAsync(HttpResponse response, byte[] json)
    {
        response.StatusCode = StatusCodes.Status200OK;
        response.ContentType = JsonContentType;
        await response.Body.WriteAsync(json, response.HttpContext.RequestAborted).ConfigureAwait(false);
    }
}
