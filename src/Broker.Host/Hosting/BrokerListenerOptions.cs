using System.Globalization;
using System.Net;

namespace Broker.Host.Hosting;

/// <summary>Where the broker listens (configuration section <c>Listeners</c>).</summary>
public sealed class BrokerListenerOptions
{
    /// <summary>The configuration section.</summary>
    public const string SectionName = "Listeners";

    /// <summary>A port of 0 turns its listener off.</summary>
    public const int Disabled = 0;

    /// <summary>A port of -1 binds any free port (tests read the bound port from <see cref="BrokerEndpoints"/>).</summary>
    public const int AnyFreePort = -1;

    /// <summary>The address of the public listeners: an IP address, <c>localhost</c> (loopback) or <c>any</c>/<c>*</c> (default).</summary>
    public string Bind { get; set; } = "any";

    /// <summary>MQTT over TCP (default 1883).</summary>
    public int MqttPort { get; set; } = 1883;

    /// <summary>MQTT over TLS (default 8883).</summary>
    public int MqttsPort { get; set; } = 8883;

    /// <summary>AMQP over TCP (default 5672).</summary>
    public int AmqpPort { get; set; } = 5672;

    /// <summary>AMQP over TLS (default 5671).</summary>
    public int AmqpsPort { get; set; } = 5671;

    /// <summary>The HTTPS surface (default 443).</summary>
    public int HttpsPort { get; set; } = 443;

    /// <summary>The management API, always on loopback (default 8081).</summary>
    public int ManagementPort { get; set; } = 8081;

    /// <summary>The configured port of <paramref name="listener"/>.</summary>
    public int PortOf(BrokerListener listener) => listener switch
    {
        BrokerListener.Mqtt => MqttPort,
        BrokerListener.Mqtts => MqttsPort,
        BrokerListener.Amqp => AmqpPort,
        BrokerListener.Amqps => AmqpsPort,
        BrokerListener.Https => HttpsPort,
        BrokerListener.Management => ManagementPort,
        _ => throw new ArgumentOutOfRangeException(nameof(listener), listener, null),
    };

    /// <summary>The address of the public listeners; null means every interface (IPv6 dual-stack, or IPv4 where IPv6 is off).</summary>
    public IPAddress? BindAddress()
    {
        var bind = Bind.Trim();
        if (bind.Length == 0 || bind == "*" || string.Equals(bind, "any", StringComparison.OrdinalIgnoreCase))
        {
            return null;
        }

        if (string.Equals(bind, "localhost", StringComparison.OrdinalIgnoreCase))
        {
            return IPAddress.Loopback;
        }

        if (IPAddress.TryParse(bind, out var address))
        {
            return address;
        }

        throw new InvalidDataException($"Listeners:Bind '{Bind}' is not an IP address, 'localhost' or 'any'.");
    }

    /// <summary>Throws <see cref="InvalidDataException"/> for ports out of range or an unreadable bind address.</summary>
    public void Validate()
    {
        foreach (var listener in Enum.GetValues<BrokerListener>())
        {
            int port = PortOf(listener);
            if (port is < AnyFreePort or > IPEndPoint.MaxPort)
            {
                throw new InvalidDataException(string.Create(CultureInfo.InvariantCulture,
                    $"The {listener} port {port} is not a TCP port (0 turns the listener off)."));
            }
        }

        _ = BindAddress();
    }
}
