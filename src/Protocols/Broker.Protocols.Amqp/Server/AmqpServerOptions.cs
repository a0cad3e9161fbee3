namespace Broker.Protocols.Amqp.Server;

/// <summary>Limits of the AMQP listener.</summary>
public sealed class AmqpServerOptions
{
    /// <summary>The container id sent in open (default "broker").</summary>
    public string ContainerId { get; set; } = "broker";

    /// <summary>The largest frame accepted, announced in open (default 64 KiB).</summary>
    public uint MaxFrameSize { get; set; } = 64 * 1024;

    /// <summary>The highest channel number accepted (default 255).</summary>
    public ushort ChannelMax { get; set; } = 255;

    /// <summary>The highest link handle accepted per session (default 255).</summary>
    public uint HandleMax { get; set; } = 255;

    /// <summary>
    /// How long the peer may send nothing before the connection is closed, announced as idle-time-out in open
    /// (default 4 min; zero disables it).
    /// </summary>
    public TimeSpan IdleTimeout { get; set; } = TimeSpan.FromMinutes(4);

    /// <summary>How long a new connection may take to finish its headers, SASL and open (default 10 s).</summary>
    public TimeSpan OpenTimeout { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>Transfers a session accepts before the peer must wait for a flow (default 5,000).</summary>
    public uint SessionWindow { get; set; } = 5000;

    /// <summary>The credit granted to a link the peer sends on, topped up as messages arrive (default 50, as IoT Hub).</summary>
    public uint LinkCredit { get; set; } = 50;

    /// <summary>The largest message accepted on a link (default 1 MiB, what IoT Hub tolerates on the wire).</summary>
    public ulong MaxMessageSize { get; set; } = 1024 * 1024;

    /// <summary>The SASL mechanisms offered when a client starts with the SASL header.</summary>
    public IList<string> SaslMechanisms { get; } = ["PLAIN", "ANONYMOUS", "EXTERNAL"];

    /// <summary>Whether a client may start with the plain AMQP header and skip SASL (the IoT Hub SDKs do; they use CBS).</summary>
    public bool AllowNoSasl { get; set; } = true;

    /// <summary>Bytes of frames queued per connection beyond which sends are refused until the writer catches up (default 4 MiB).</summary>
    public int MaxPendingOutputBytes { get; set; } = 4 * 1024 * 1024;

    /// <summary>How often deadlines and heartbeats are checked (default 1 s).</summary>
    public TimeSpan SweepInterval { get; set; } = TimeSpan.FromSeconds(1);
}
