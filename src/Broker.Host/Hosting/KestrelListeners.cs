using System.Net;
using Broker.Host.Security;
using Broker.Protocols.Amqp.Server;
using Broker.Protocols.Mqtt.Server;
using Microsoft.AspNetCore.Connections;
using Microsoft.AspNetCore.Connections.Features;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.AspNetCore.Server.Kestrel.Https;

namespace Broker.Host.Hosting;

/// <summary>
/// Puts the broker's listeners on Kestrel: MQTT plain and TLS through the MQTT connection handler, AMQP plain and
/// TLS through the AMQP engine, HTTPS (IoT Hub's WebSocket endpoint for MQTT and AMQP), and the
/// management API as cleartext HTTP/2 on loopback. Kestrel owns sockets, TLS and the connection limit.
/// </summary>
internal sealed class KestrelListeners
{
    private readonly BrokerListenerOptions _options;
    private readonly BrokerLimitsOptions _limits;
    private readonly BrokerEndpoints _endpoints;

    public KestrelListeners(BrokerListenerOptions options, BrokerLimitsOptions limits, BrokerEndpoints endpoints)
    {
        _options = options;
        _limits = limits;
        _endpoints = endpoints;
        // IoT Hub's HTTPS port is 443, which only a privileged process may bind: an operator starting the broker with
        // its defaults as an ordinary user gets every other listener and a warning, not a failed start.
        HttpsNotPermitted = options.HttpsPort is > 0 and < 1024 && !PrivilegedPort.CanBind(options.BindAddress(), options.HttpsPort);
    }

    /// <summary>Whether the HTTPS listener stays closed because this process may not bind its privileged port.</summary>
    public bool HttpsNotPermitted { get; }

    /// <summary>
    /// The TLS listeners' certificate. It is loaded after the store opens (so the data directory is ours) and set
    /// before the host is built, because building the host creates Kestrel and runs <see cref="Configure"/>.
    /// </summary>
    public ServerCertificate? Certificate { get; set; }

    /// <summary>Whether a TLS listener that will open needs <see cref="Certificate"/>.</summary>
    public bool NeedsCertificate => WillOpen(BrokerListener.Mqtts) || WillOpen(BrokerListener.Amqps) || WillOpen(BrokerListener.Https);

    /// <summary>Whether <paramref name="listener"/> is turned on and may be bound.</summary>
    public bool WillOpen(BrokerListener listener)
        => _options.PortOf(listener) != BrokerListenerOptions.Disabled && !(listener == BrokerListener.Https && HttpsNotPermitted);

    public void Configure(KestrelServerOptions kestrel)
    {
        kestrel.AddServerHeader = false;
        kestrel.Limits.MaxConcurrentConnections = _limits.MaxConnections;
        var address = _options.BindAddress();
        if (WillOpen(BrokerListener.Mqtt))
        {
            ListenPublic(kestrel, BrokerListener.Mqtt, address, listen => listen.UseConnectionHandler<MqttConnectionHandler>());
        }

        if (WillOpen(BrokerListener.Mqtts))
        {
            ListenPublic(kestrel, BrokerListener.Mqtts, address, listen =>
            {
                UseTls(listen);
                listen.UseConnectionHandler<MqttConnectionHandler>();
            });
        }

        // AMQP closes its own connections on shutdown (close with amqp:connection:forced), so no abort on top.
        if (WillOpen(BrokerListener.Amqp))
        {
            ListenPublic(kestrel, BrokerListener.Amqp, address, listen => listen.UseConnectionHandler<AmqpConnectionHandler>(), abortOnShutdown: false);
        }

        if (WillOpen(BrokerListener.Amqps))
        {
            ListenPublic(kestrel, BrokerListener.Amqps, address, listen =>
            {
                UseTls(listen);
                listen.UseConnectionHandler<AmqpConnectionHandler>();
            }, abortOnShutdown: false);
        }

        if (WillOpen(BrokerListener.Https))
        {
            // HTTP/1.1: the SDKs' WebSocket upgrade (RFC 6455) is an HTTP/1.1 request.
            ListenPublic(kestrel, BrokerListener.Https, address, listen =>
            {
                listen.Protocols = HttpProtocols.Http1;
                UseTls(listen, negotiateApplicationProtocol: true);
            }, abortOnShutdown: false);
        }

        if (WillOpen(BrokerListener.Management))
        {
            // Loopback only: the management API can create identities and read keys.
            kestrel.Listen(IPAddress.Loopback, PortNumber(BrokerListener.Management), listen =>
            {
                listen.Protocols = HttpProtocols.Http2; // gRPC over cleartext HTTP/2 (h2c): no TLS to set up on loopback
                _endpoints.Add(BrokerListener.Management, listen);
            });
        }
    }

    private void ListenPublic(KestrelServerOptions kestrel, BrokerListener listener, IPAddress? address, Action<ListenOptions> configure, bool abortOnShutdown = true)
    {
        void Configure(ListenOptions listen)
        {
            if (abortOnShutdown)
            {
                listen.Use(CloseOnShutdown);
            }

            configure(listen);
            _endpoints.Add(listener, listen);
        }

        int port = PortNumber(listener);
        if (address is null)
        {
            kestrel.ListenAnyIP(port, Configure); // IPv6 dual-stack, or IPv4 where IPv6 is off
        }
        else
        {
            kestrel.Listen(address, port, Configure);
        }
    }

    private int PortNumber(BrokerListener listener)
    {
        int port = _options.PortOf(listener);
        return port == BrokerListenerOptions.AnyFreePort ? 0 : port;
    }

    private void UseTls(ListenOptions listen, bool negotiateApplicationProtocol = false)
    {
        var certificate = Certificate ?? throw new InvalidOperationException("The TLS listeners need the server certificate set before the host is built.");
        listen.UseHttps(new HttpsConnectionAdapterOptions
        {
            ServerCertificate = certificate.Certificate,
            ServerCertificateChain = certificate.Intermediates.Count > 0 ? certificate.Intermediates : null,
            // X.509 devices present a certificate, SAS devices none. Which certificate a device may use is the hub's
            // decision once CONNECT names the device (thumbprint or CA), so TLS takes any certificate or none.
            ClientCertificateMode = ClientCertificateMode.AllowCertificate,
            ClientCertificateValidation = static (_, _, _) => true,
            CheckCertificateRevocation = false,
            // Kestrel offers h2/http/1.1 through ALPN; an MQTT or AMQP client naming its own protocol must not fail on
            // that. HTTPS keeps Kestrel's ALPN.
            OnAuthenticate = negotiateApplicationProtocol ? null : static (_, ssl) => ssl.ApplicationProtocols = null,
        });
    }

    /// <summary>
    /// MQTT 3.1.1 has no server DISCONNECT: when Kestrel asks its connections to close on shutdown, closing the
    /// transport is the close, and it spares Kestrel's wait for devices that would never leave by themselves.
    /// </summary>
    private static ConnectionDelegate CloseOnShutdown(ConnectionDelegate next) => async connection =>
    {
        var lifetime = connection.Features.Get<IConnectionLifetimeNotificationFeature>();
        using var registration = lifetime is null
            ? default
            : lifetime.ConnectionClosedRequested.Register(static state =>
                ((ConnectionContext)state!).Abort(new ConnectionAbortedException("The broker is shutting down.")), connection);
        await next(connection).ConfigureAwait(false);
    };
}
