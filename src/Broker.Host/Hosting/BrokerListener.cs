namespace Broker.Host.Hosting;

/// <summary>The broker's listeners, each with its own port.</summary>
public enum BrokerListener
{
    /// <summary>MQTT 3.1.1 over TCP (default port 1883).</summary>
    Mqtt,

    /// <summary>MQTT 3.1.1 over TLS (default port 8883).</summary>
    Mqtts,

    /// <summary>AMQP 1.0 over TCP (default port 5672).</summary>
    Amqp,

    /// <summary>AMQP 1.0 over TLS (default port 5671).</summary>
    Amqps,

    /// <summary>The HTTPS device and service surface, WebSockets included (default port 443).</summary>
    Https,

    /// <summary>The gRPC management API over cleartext HTTP/2, on loopback only (default port 8081).</summary>
    Management,
}
