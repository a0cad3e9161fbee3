using Broker.Protocols.Amqp.Server;
using Broker.Protocols.Mqtt.Server;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Connections;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

namespace Broker.Host.WebSockets;

/// <summary>
/// IoT Hub's WebSocket endpoint, <c>wss://{host}:443/$iothub/websocket</c>: the subprotocol the client asks for picks
/// the engine (<c>mqtt</c> for MQTT 3.1.1, <c>AMQPWSB10</c> for AMQP 1.0), which then runs over the WebSocket exactly
/// as over a TLS socket. Served on the public HTTPS listener only.
/// </summary>
internal static class IotHubWebSocketEndpoint
{
    /// <summary>The path every Azure IoT SDK dials.</summary>
    public const string Path = "/$iothub/websocket";

    /// <summary>The MQTT subprotocol (MQTT 3.1.1 over WebSockets).</summary>
    public const string MqttSubProtocol = "mqtt";

    /// <summary>The AMQP subprotocol (AMQP WebSocket Binding 1.0).</summary>
    public const string AmqpSubProtocol = "AMQPWSB10";

    /// <summary>Maps the endpoint; the host confines it to the HTTPS listener.</summary>
    public static IEndpointConventionBuilder Map(IEndpointRouteBuilder routes) => routes.Map(Path, AcceptAsync);

    private static async Task AcceptAsync(HttpContext context)
    {
        if (!context.WebSockets.IsWebSocketRequest)
        {
            await RefuseAsync(context, $"{Path} takes WebSocket upgrades only (subprotocol {MqttSubProtocol} or {AmqpSubProtocol}).").ConfigureAwait(false);
            return;
        }

        var requested = context.WebSockets.WebSocketRequestedProtocols;
        string? subProtocol = requested.FirstOrDefault(p => string.Equals(p, MqttSubProtocol, StringComparison.OrdinalIgnoreCase)
            || string.Equals(p, AmqpSubProtocol, StringComparison.OrdinalIgnoreCase));
        if (subProtocol is null)
        {
            await RefuseAsync(context, $"No supported WebSocket subprotocol in [{string.Join(", ", requested)}]: use {MqttSubProtocol} or {AmqpSubProtocol}.").ConfigureAwait(false);
            return;
        }

        bool mqtt = string.Equals(subProtocol, MqttSubProtocol, StringComparison.OrdinalIgnoreCase);
        var services = context.RequestServices;
        ConnectionHandler handler = mqtt
            ? ActivatorUtilities.GetServiceOrCreateInstance<MqttConnectionHandler>(services)
            : ActivatorUtilities.GetServiceOrCreateInstance<AmqpConnectionHandler>(services);

        using var socket = await context.WebSockets.AcceptWebSocketAsync(new WebSocketAcceptContext { SubProtocol = subProtocol }).ConfigureAwait(false);
        var connection = new WebSocketConnection(context, socket);
        await using (connection.ConfigureAwait(false))
        {
            // MQTT 3.1.1 has no server DISCONNECT: at shutdown the connection is dropped, as on the TCP listeners.
            // AMQP closes its own connections (amqp:connection:forced).
            using var stopping = mqtt
                ? services.GetRequiredService<IHostApplicationLifetime>().ApplicationStopping.Register(static state =>
                    ((ConnectionContext)state!).Abort(new ConnectionAbortedException("The broker is shutting down.")), connection)
                : default;
            await connection.RunAsync(handler).ConfigureAwait(false);
        }
    }

    private static Task RefuseAsync(HttpContext context, string message)
    {
        context.Response.StatusCode = StatusCodes.Status400BadRequest;
        context.Response.ContentType = "text/plain; charset=utf-8";
        return context.Response.WriteAsync(message);
    }
}
