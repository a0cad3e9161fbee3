using System.Globalization;
using System.Text;
using System.Text.Json;
using Broker.Core.CloudToDevice;
using Broker.Core.Errors;
using Broker.Core.Hub;
using Broker.Core.Security;
using Broker.Core.Storage;
using Broker.Core.Telemetry;
using Broker.Management;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;

namespace Broker.Host.DeviceApi;

/// <summary>
/// IoT Hub's device HTTPS API, as the SDKs' HTTP transports call it: <c>POST /devices/{id}/messages/events</c> (one
/// message, or a batch as <c>application/vnd.microsoft.iothub.json</c>), answered 204 once stored durably;
/// <c>GET /devices/{id}/messages/devicebound</c> (the next cloud-to-device message, locked for a minute, its lock
/// token in <c>ETag</c>; 204 when there is none), <c>DELETE …/devicebound/{lockToken}</c> to complete (with
/// <c>?reject</c> to reject) and <c>POST …/devicebound/{lockToken}/abandon</c>. The device authenticates with a SAS
/// token in <c>Authorization</c> or its TLS client certificate, as on the other transports.
/// </summary>
internal static class DeviceHttpsEndpoints
{
    /// <summary>IoT Hub's largest device-to-cloud message (and batch).</summary>
    public const int MaxMessageBytes = 256 * 1024;

    private const string BatchContentType = "application/vnd.microsoft.iothub.json";
    private const string AppPropertyPrefix = "iothub-app-";

    // HTTP has no connection to own a delivery's lock: it just runs out after a minute if not settled.
    private static readonly object LockOwner = new();

    // Message headers and the property-bag keys the events log stores them under (as MQTT devices send them).
    private static readonly (string Header, string Key)[] SystemHeaders =
    [
        ("iothub-messageid", "$.mid"),
        ("iothub-correlationid", "$.cid"),
        ("iothub-userid", "$.uid"),
        ("iothub-contenttype", "$.ct"),
        ("iothub-contentencoding", "$.ce"),
        ("iothub-expiry", "$.exp"),
        ("iothub-creation-time-utc", "$.ctime"),
        ("iothub-interface-id", "$.ifid"),
        ("dt-subject", "$.sub"),
    ];

    public static IEndpointConventionBuilder Map(IEndpointRouteBuilder routes)
    {
        ArgumentNullException.ThrowIfNull(routes);
        return new CompositeConventionBuilder(
        [
            routes.MapPost("/devices/{deviceId}/messages/events", context => HandleAsync(context, SendEventsAsync)),
            routes.MapGet("/devices/{deviceId}/messages/devicebound", context => HandleAsync(context, ReceiveAsync)),
            routes.MapDelete("/devices/{deviceId}/messages/devicebound/{lockToken}", context => HandleAsync(context, CompleteOrRejectAsync)),
            routes.MapPost("/devices/{deviceId}/messages/devicebound/{lockToken}/abandon", context => HandleAsync(context, AbandonAsync)),
        ]);
    }

    private static async Task HandleAsync(HttpContext context, Func<HttpContext, DeviceContext, Task> handler)
    {
        var time = context.RequestServices.GetRequiredService<TimeProvider>();
        try
        {
            var device = await AuthenticateAsync(context).ConfigureAwait(false);
            IotHubRestRequests.RequireApiVersion(context.Request);

            await handler(context, device).ConfigureAwait(false);
        }
        catch (IotHubException ex)
        {
            await IotHubRestErrors.WriteAsync(context.Response, ex.Number, ex.Message, time).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is JsonException or FormatException)
        {
            await IotHubRestErrors.WriteAsync(context.Response, (int)IotHubErrorCode.ArgumentInvalid, "The batch is not valid: " + ex.Message, time).ConfigureAwait(false);
        }
        catch (StorageException)
        {
            await IotHubRestErrors.WriteAsync(context.Response, (int)IotHubErrorCode.ServiceUnavailable, "The message could not be stored.", time).ConfigureAwait(false);
        }
    }

    private static async Task<DeviceContext> AuthenticateAsync(HttpContext context)
    {
        string deviceId = context.Request.RouteValues["deviceId"] as string ?? "";
        string token = context.Request.Headers.Authorization.ToString();
        DeviceCredentials credentials;
        if (token.Length > 0)
        {
            credentials = DeviceCredentials.FromSasToken(deviceId, null, token);
        }
        else if (context.Connection.ClientCertificate is { } certificate)
        {
            credentials = DeviceCredentials.FromCertificate(deviceId, null, certificate);
        }
        else
        {
            throw new IotHubException(IotHubErrorCode.IotHubUnauthorizedAccess, "The request has neither a SAS token in Authorization nor a client certificate.");
        }

        var authenticator = context.RequestServices.GetRequiredService<IDeviceAuthenticator>();
        var result = await authenticator.AuthenticateAsync(credentials, context.RequestAborted).ConfigureAwait(false);
        if (!result.Succeeded)
        {
            throw new IotHubException(IotHubErrorCode.IotHubUnauthorizedAccess, $"{deviceId} is not authorized ({result.Status}).");
        }

        var time = context.RequestServices.GetRequiredService<TimeProvider>();
        return new DeviceContext(deviceId, null, ProtocolKind.Https, result.Method, result.GenerationId, time.GetUtcNow(), result.ExpiresAt);
    }

    private static async Task SendEventsAsync(HttpContext context, DeviceContext device)
    {
        var body = await IotHubRestRequests.ReadBodyAsync(context.Request, MaxMessageBytes).ConfigureAwait(false);
        var messages = IsBatch(context.Request.ContentType)
            ? ParseBatch(body)
            : [(PropertyBag(name => context.Request.Headers[name].ToString(), context.Request.Headers.Keys), body)];

        var events = context.RequestServices.GetRequiredService<IHubStore>().GetPartitionFor(device.DeviceId).Events;
        byte[] identity = TelemetryEventCodec.EncodeIdentity(device);
        long last = 0;
        foreach (var (bag, payload) in messages)
        {
            var encodedBag = Encoding.UTF8.GetBytes(bag);
            int length = TelemetryEventCodec.EncodedLength(identity.Length, encodedBag.Length, payload.Length);
            if (!events.HasRoomFor(length))
            {
                await events.WaitForRoomAsync(length, context.RequestAborted).ConfigureAwait(false);
            }

            var writer = new System.Buffers.ArrayBufferWriter<byte>(length);
            TelemetryEventCodec.Write(writer, identity, encodedBag, new System.Buffers.ReadOnlySequence<byte>(payload));
            last = events.Append(writer.WrittenSpan).EndAddress;
        }

        // Acknowledged means durable: 204 once the commit covering the last one is on disk.
        await events.WaitDurableAsync(last, context.RequestAborted).ConfigureAwait(false);
        context.Response.StatusCode = StatusCodes.Status204NoContent;
    }

    private static Task ReceiveAsync(HttpContext context, DeviceContext device)
    {
        var queue = context.RequestServices.GetRequiredService<CloudToDeviceService>();
        if (!queue.TryLockNext(device.DeviceId, LockOwner, out var delivery))
        {
            context.Response.StatusCode = StatusCodes.Status204NoContent;
            return Task.CompletedTask;
        }

        var message = delivery.Message;
        var headers = context.Response.Headers;
        headers.ETag = $"\"{delivery.LockToken}\"";
        headers["iothub-to"] = $"/devices/{Uri.EscapeDataString(device.DeviceId)}/messages/deviceBound";
        headers["iothub-sequencenumber"] = message.SequenceNumber.ToString(CultureInfo.InvariantCulture);
        headers["iothub-deliverycount"] = message.DeliveryCount.ToString(CultureInfo.InvariantCulture);
        headers["iothub-enqueuedtime"] = message.EnqueuedTime.UtcDateTime.ToString("R", CultureInfo.InvariantCulture);
        headers["iothub-expiry"] = message.ExpiryTime.UtcDateTime.ToString("O", CultureInfo.InvariantCulture);
        headers["iothub-ack"] = message.Ack.ToString().ToLowerInvariant();
        SetIfPresent(headers, "iothub-messageid", message.MessageId);
        SetIfPresent(headers, "iothub-correlationid", message.CorrelationId);
        SetIfPresent(headers, "iothub-userid", message.UserId);
        SetIfPresent(headers, "iothub-contenttype", message.ContentType);
        SetIfPresent(headers, "iothub-contentencoding", message.ContentEncoding);
        foreach (var (name, value) in message.Properties)
        {
            headers[AppPropertyPrefix + name] = value ?? "";
        }

        context.Response.StatusCode = StatusCodes.Status200OK;
        return context.Response.Body.WriteAsync(message.Body, context.RequestAborted).AsTask();
    }

    private static async Task CompleteOrRejectAsync(HttpContext context, DeviceContext device)
    {
        var queue = context.RequestServices.GetRequiredService<CloudToDeviceService>();
        var lockToken = LockTokenOf(context);
        if (context.Request.Query.ContainsKey("reject"))
        {
            await queue.RejectAsync(device.DeviceId, lockToken, context.RequestAborted).ConfigureAwait(false);
        }
        else
        {
            await queue.CompleteAsync(device.DeviceId, lockToken, context.RequestAborted).ConfigureAwait(false);
        }

        context.Response.StatusCode = StatusCodes.Status204NoContent;
    }

    private static async Task AbandonAsync(HttpContext context, DeviceContext device)
    {
        await context.RequestServices.GetRequiredService<CloudToDeviceService>().AbandonAsync(device.DeviceId, LockTokenOf(context), context.RequestAborted).ConfigureAwait(false);
        context.Response.StatusCode = StatusCodes.Status204NoContent;
    }

    private static Guid LockTokenOf(HttpContext context)
        => Guid.TryParse((context.Request.RouteValues["lockToken"] as string ?? "").Trim('"'), out var token)
            ? token : throw IotHubErrors.ArgumentInvalid("The lock token is not one this hub issued.");

    private static void SetIfPresent(IHeaderDictionary headers, string name, string? value)
    {
        if (!string.IsNullOrEmpty(value))
        {
            headers[name] = value;
        }
    }

    private static bool IsBatch(string? contentType)
        => contentType is not null && contentType.StartsWith(BatchContentType, StringComparison.OrdinalIgnoreCase);

    /// <summary>The URL-encoded property bag of a message whose properties are named as HTTP headers.</summary>
    private static string PropertyBag(Func<string, string> valueOf, IEnumerable<string> names)
    {
        var bag = new StringBuilder();
        foreach (var (header, key) in SystemHeaders)
        {
            Add(bag, key, valueOf(header), encodeKey: false);
        }

        foreach (string name in names)
        {
            if (name.StartsWith(AppPropertyPrefix, StringComparison.OrdinalIgnoreCase) && name.Length > AppPropertyPrefix.Length)
            {
                Add(bag, name[AppPropertyPrefix.Length..], valueOf(name), encodeKey: true);
            }
        }

        return bag.ToString();
    }

    private static void Add(StringBuilder bag, string key, string value, bool encodeKey)
    {
        if (value.Length == 0)
        {
            return;
        }

        if (bag.Length > 0)
        {
            bag.Append('&');
        }

        bag.Append(encodeKey ? Uri.EscapeDataString(key) : key).Append('=').Append(Uri.EscapeDataString(value));
    }

    /// <summary>A batch: <c>[{"body":"&lt;base64&gt;","properties":{"iothub-app-k":"v",…}},…]</c>.</summary>
    private static List<(string Bag, byte[] Payload)> ParseBatch(byte[] body)
    {
        using var document = JsonDocument.Parse(body);
        if (document.RootElement.ValueKind != JsonValueKind.Array || document.RootElement.GetArrayLength() == 0)
        {
            throw IotHubErrors.ArgumentInvalid("A batch is a non-empty JSON array of {\"body\", \"properties\"}.");
        }

        var messages = new List<(string, byte[])>();
        foreach (var item in document.RootElement.EnumerateArray())
        {
            byte[] payload = item.TryGetProperty("body", out var encoded) && encoded.ValueKind == JsonValueKind.String
                ? Convert.FromBase64String(encoded.GetString()!)
                : throw IotHubErrors.ArgumentInvalid("Every message of a batch needs a base64 body.");
            var properties = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
            if (item.TryGetProperty("properties", out var map) && map.ValueKind == JsonValueKind.Object)
            {
                foreach (var property in map.EnumerateObject())
                {
                    properties[property.Name] = property.Value.ValueKind == JsonValueKind.String ? property.Value.GetString()! : property.Value.GetRawText();
                }
            }

            messages.Add((PropertyBag(name => properties.GetValueOrDefault(name, ""), properties.Keys), payload));
        }

        return messages;
    }
}
