using System.Net;

namespace Broker.LoadGenerator;

/// <summary>The protocol the simulated devices speak.</summary>
internal enum LoadProtocol
{
    /// <summary>MQTT 3.1.1: PUBLISH to devices/{id}/messages/events/, QoS 1 acknowledged by PUBACK.</summary>
    Mqtt,

    /// <summary>AMQP 1.0: SASL PLAIN, transfers on a sender link to /devices/{id}/messages/events, unsettled ones acknowledged by Accepted.</summary>
    Amqp,
}

/// <summary>How an AMQP device authenticates.</summary>
internal enum AmqpAuth
{
    /// <summary>SASL PLAIN: <c>{deviceId}@sas.{hub name}</c> and the SAS token as the password.</summary>
    Plain,

    /// <summary>No SASL layer; a CBS put-token on <c>$cbs</c> before the events link (what the Node and C# SDKs do).</summary>
    Cbs,
}

/// <summary>Which MQTT client implementation simulates the devices.</summary>
internal enum ClientKind
{
    /// <summary>Sockets + pipes with the broker's own codec: a handful of bytes and no allocation per message.</summary>
    Raw,

    /// <summary>One MQTTnet 5 client per device (flat out only), to compare the generator's own cost.</summary>
    MqttNet,
}

/// <summary>One scenario, validated.</summary>
internal sealed record LoadOptions
{
    public const int MaxDurationSeconds = 600;

    public required string Host { get; init; }

    public required int Port { get; init; }

    public bool Tls { get; init; }

    public LoadProtocol Protocol { get; init; } = LoadProtocol.Mqtt;

    public AmqpAuth AmqpAuth { get; init; } = AmqpAuth.Plain;

    public string? CaFile { get; init; }

    public int Devices { get; init; } = 100;

    public string DevicePrefix { get; init; } = "load-";

    public int Qos { get; init; } = 1;

    /// <summary>Messages per second over all devices; 0 means flat out.</summary>
    public double Rate { get; init; }

    public int Window { get; init; } = 10;

    public int PayloadBytes { get; init; } = 1024;

    public TimeSpan Duration { get; init; } = TimeSpan.FromSeconds(30);

    public TimeSpan Warmup { get; init; } = TimeSpan.FromSeconds(5);

    public int ConnectParallelism { get; init; } = 32;

    public bool NoAuth { get; init; }

    public bool CreateDevices { get; init; }

    public ClientKind Client { get; init; } = ClientKind.Raw;

    public int? BrokerPid { get; init; }

    public string Label { get; init; } = "broker";

    /// <summary>A device's id: <c>load-0000</c>, zero-padded to at least four digits.</summary>
    public string DeviceId(int index)
        => DevicePrefix + index.ToString(Devices > 10_000 ? "D" + (Devices - 1).ToString(System.Globalization.CultureInfo.InvariantCulture).Length : "D4", System.Globalization.CultureInfo.InvariantCulture);

    /// <summary>Why the scenario cannot run, or null.</summary>
    public string? Validate()
    {
        if (Devices is < 1 or > 100_000)
        {
            return "--devices must be 1 to 100000.";
        }

        if (Qos is not (0 or 1))
        {
            return "--qos must be 0 or 1 (AMQP: 0 = pre-settled, 1 = unsettled, acknowledged by Accepted).";
        }

        if (Rate < 0 || double.IsNaN(Rate) || double.IsInfinity(Rate))
        {
            return "--rate must be 0 (flat out) or a positive number of messages per second.";
        }

        if (Window is < 1 or > 65_000)
        {
            return "--window must be 1 to 65000.";
        }

        if (PayloadBytes is < 0 or > 256 * 1024)
        {
            return "--payload must be 0 to 262144 bytes (IoT Hub's message limit).";
        }

        if (Duration <= TimeSpan.Zero || Duration > TimeSpan.FromSeconds(MaxDurationSeconds))
        {
            return $"--duration must be more than 0 and at most {MaxDurationSeconds} seconds.";
        }

        if (Warmup < TimeSpan.Zero || Warmup > TimeSpan.FromSeconds(MaxDurationSeconds))
        {
            return $"--warmup must be 0 to {MaxDurationSeconds} seconds.";
        }

        if (Port is < 1 or > IPEndPoint.MaxPort)
        {
            return "--port must be 1 to 65535.";
        }

        if (Tls && string.IsNullOrEmpty(CaFile))
        {
            return "--tls needs --ca FILE (the broker's CA certificate, e.g. DATA/tls/ca.crt).";
        }

        if (Protocol == LoadProtocol.Amqp && Client != ClientKind.Raw)
        {
            return "--protocol amqp has one client, the raw one (sockets + the broker's AMQP codec).";
        }

        if (Protocol == LoadProtocol.Amqp && Rate > 0 && Devices / Rate > 60)
        {
            // The AMQP client sends no heartbeats: a device must send well within the broker's idle timeout (IoT Hub: 240 s).
            return "--protocol amqp needs every device to send at least once a minute: --rate must be at least --devices / 60.";
        }

        if (Protocol == LoadProtocol.Amqp && NoAuth && AmqpAuth == AmqpAuth.Cbs)
        {
            return "--no-auth over AMQP is SASL ANONYMOUS with no token; it cannot go with --amqp-auth cbs.";
        }

        if (Client == ClientKind.MqttNet && Rate > 0)
        {
            return "--client mqttnet runs flat out only; use the raw client for a target rate.";
        }

        return ConnectParallelism < 1 ? "--connect-parallel must be at least 1." : null;
    }

    /// <summary>Only loopback targets: this tool floods what it points at.</summary>
    public static bool IsLoopback(string host)
    {
        if (string.Equals(host, "localhost", StringComparison.OrdinalIgnoreCase))
        {
            return true;
        }

        var bracketless = host.Length > 2 && host[0] == '[' && host[^1] == ']' ? host[1..^1] : host;
        return IPAddress.TryParse(bracketless, out var address)
            && (IPAddress.IsLoopback(address) || (address.IsIPv4MappedToIPv6 && IPAddress.IsLoopback(address.MapToIPv4())));
    }
}
