using Microsoft.AspNetCore.Connections;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Broker.Protocols.Amqp.Server;

/// <summary>Kestrel's entry point for AMQP listeners (<c>listenOptions.UseConnectionHandler&lt;AmqpConnectionHandler&gt;()</c>).</summary>
public sealed class AmqpConnectionHandler : ConnectionHandler
{
    private readonly IAmqpLinkHandler _links;
    private readonly IAmqpSaslAuthenticator? _authenticator;
    private readonly AmqpConnectionMonitor _monitor;
    private readonly AmqpServerOptions _options;
    private readonly TimeProvider _time;
    private readonly ILogger<AmqpConnectionHandler> _logger;

    /// <summary>Created by dependency injection; without an authenticator only clients that skip SASL get in.</summary>
    public AmqpConnectionHandler(IAmqpLinkHandler links, AmqpConnectionMonitor monitor, IOptions<AmqpServerOptions> options,
        TimeProvider time, ILogger<AmqpConnectionHandler> logger, IAmqpSaslAuthenticator? authenticator = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        _links = links;
        _authenticator = authenticator;
        _monitor = monitor;
        _options = options.Value;
        _time = time;
        _logger = logger;
    }

    /// <inheritdoc />
    public override async Task OnConnectedAsync(ConnectionContext connection)
    {
        ArgumentNullException.ThrowIfNull(connection);
        var tls = connection.Features.Get<ITlsConnectionFeature>();
        var amqp = new AmqpConnection(connection, tls, _options, _authenticator, _links, _monitor, _time, _logger);
        await amqp.RunAsync().ConfigureAwait(false);
    }
}
