namespace Broker.Protocols.Mqtt.Server;

/// <summary>Limits of the MQTT listener; the defaults follow IoT Hub.</summary>
public sealed class MqttServerOptions
{
    /// <summary>The largest packet accepted, fixed header included (default 256 KiB of message plus 8 KiB of topic and headers).</summary>
    public int MaxPacketSize { get; set; } = (256 + 8) * 1024;

    /// <summary>How long a new connection may take to send CONNECT (default 10 s).</summary>
    public TimeSpan ConnectTimeout { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>The longest keep-alive enforced: IoT Hub closes after 1.5 × the client's value, capped at 1767 s.</summary>
    public TimeSpan MaxKeepAliveTimeout { get; set; } = TimeSpan.FromSeconds(1767);

    /// <summary>How often idle connections and expired credentials are looked for (default 1 s).</summary>
    public TimeSpan SweepInterval { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>Outbound messages queued per connection before the hub stops adding more (default 1,000).</summary>
    public int MaxOutboundMessages { get; set; } = 1000;
}
