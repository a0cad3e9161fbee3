using Microsoft.AspNetCore.Connections;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Broker.Protocols.Mqtt.Server;

/// <summary>Kestrel's entry point for MQTT listeners (<c>listenOptions.UseConnectionHandler&lt;MqttConnectionHandler&gt;()</c>).</summary>
public sealed class MqttConnectionHandler : ConnectionHandler
{
    private readonly IMqttConnectPolicy _policy;
    private readonly MqttConnectionMonitor _monitor;
    private readonly MqttServerOptions _options;
    private readonly TimeProvider _time;
    private readonly ILogger<MqttConnectionHandler> _logger;

    /// <summary>Created by dependency injection.</summary>
    public MqttConnectionHandler(IMqttConnectPolicy policy, MqttConnectionMonitor monitor, IOptions<MqttServerOptions> options,
        TimeProvider time, ILogger<MqttConnectionHandler> logger)
    {
        _policy = policy;
        _monitor = monitor;
        _options = options.Value;
        _time = time;
        _logger = logger;
    }

    /// <inheritdoc />
    public override async Task OnConnectedAsync(ConnectionContext connection)
    {
        var tls = connection.Features.Get<ITlsConnectionFeature>();
        var mqtt = new MqttConnection(connection, tls, _policy, _monitor, _options, _time, _logger);
        await mqtt.RunAsync().ConfigureAwait(false);
    }
}
