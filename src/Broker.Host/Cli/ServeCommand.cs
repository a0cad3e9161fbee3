using System.CommandLine;
using System.CommandLine.Parsing;
using System.Globalization;
using System.Net;
using Broker.Host.Hosting;

namespace Broker.Host.Cli;

/// <summary>
/// <c>broker serve</c>: runs the hub until SIGINT or SIGTERM. Each flag is a configuration key; a flag that is
/// given wins over the environment and the JSON file, one that is not leaves them alone.
/// </summary>
internal sealed class ServeCommand : Command
{
    private static readonly BrokerListenerOptions ListenerDefaults = new();

    private readonly List<(Option Option, string Key)> _keys = [];

    public ServeCommand()
        : base("serve", "Run the hub: MQTT listeners, the management API and the store, until SIGINT or SIGTERM.")
    {
        Config = new Option<string?>("--config")
        {
            HelpName = "FILE",
            Description = $"JSON configuration file [default: {BrokerConfiguration.DefaultConfigFile} in the current directory, if present]",
        };
        Options.Add(Config);

        Add(new Option<string>("--data")
        {
            HelpName = "DIR",
            Description = "Data directory: the store, the generated TLS certificates (tls/) and local credentials",
            DefaultValueFactory = _ => BrokerConfiguration.DefaultDataDirectory,
        }, BrokerConfiguration.DataDirectoryKey);

        Add(new Option<string>("--hostname")
        {
            HelpName = "NAME",
            Description = "The hub's host name: in SAS tokens, MQTT user names and the generated server certificate",
            DefaultValueFactory = _ => "localhost",
        }, BrokerConfiguration.HostNameKey);

        var partitions = new Option<int?>("--partitions")
        {
            HelpName = "N",
            Description = "Partition count of a new store, 1-32 [default: 4]; an existing store keeps its own",
        };
        partitions.Validators.Add(result =>
        {
            if (result.GetValueOrDefault<int?>() is < 1 or > 32)
            {
                result.AddError("--partitions must be 1 to 32.");
            }
        });
        Add(partitions, BrokerConfiguration.PartitionCountKey);

        Add(new Option<string>("--bind")
        {
            HelpName = "ADDRESS",
            Description = "Address of the public listeners: an IP address, localhost, or any",
            DefaultValueFactory = _ => ListenerDefaults.Bind,
        }, BrokerConfiguration.BindKey);

        AddPort("--mqtt-port", BrokerListener.Mqtt, "MQTT over TCP port");
        AddPort("--mqtts-port", BrokerListener.Mqtts, "MQTT over TLS port");
        AddPort("--amqp-port", BrokerListener.Amqp, "AMQP 1.0 over TCP port");
        AddPort("--amqps-port", BrokerListener.Amqps, "AMQP 1.0 over TLS port");
        AddPort("--https-port", BrokerListener.Https, "HTTPS port: IoT Hub's WebSocket endpoint /$iothub/websocket for MQTT and AMQP");
        AddPort("--management-port", BrokerListener.Management, "gRPC management API port, on loopback only (cleartext HTTP/2)");

        SetAction(RunAsync);
    }

    /// <summary>The <c>--config</c> option.</summary>
    public Option<string?> Config { get; }

    /// <summary>The server settings a parse of this command asks for: the config file and the flags that were given.</summary>
    public BrokerServerSettings ToSettings(ParseResult parseResult)
    {
        var overrides = new Dictionary<string, string?>(StringComparer.OrdinalIgnoreCase);
        foreach (var (option, key) in _keys)
        {
            // A default shown in --help must not hide the environment or the JSON file, so only given flags count.
            if (parseResult.GetResult(option) is { Implicit: false } result)
            {
                overrides[key] = Convert.ToString(result.GetValueOrDefault<object?>(), CultureInfo.InvariantCulture);
            }
        }

        return new BrokerServerSettings { ConfigFile = parseResult.GetValue(Config), Overrides = overrides };
    }

    private void Add(Option option, string key)
    {
        Options.Add(option);
        _keys.Add((option, key));
    }

    private void AddPort(string name, BrokerListener listener, string description)
    {
        var option = new Option<int>(name)
        {
            HelpName = "PORT",
            Description = description + "; 0 turns the listener off",
            DefaultValueFactory = _ => ListenerDefaults.PortOf(listener),
        };
        option.Validators.Add(result =>
        {
            if (result.GetValueOrDefault<int>() is < 0 or > IPEndPoint.MaxPort)
            {
                result.AddError($"{name} must be 0 to {IPEndPoint.MaxPort}.");
            }
        });
        Add(option, BrokerConfiguration.PortKey(listener));
    }

    private async Task<int> RunAsync(ParseResult parseResult, CancellationToken cancellationToken)
    {
        var settings = ToSettings(parseResult);
        try
        {
            var server = await BrokerServer.CreateAsync(settings, cancellationToken).ConfigureAwait(false);
            await using (server.ConfigureAwait(false))
            {
                await server.RunAsync(cancellationToken).ConfigureAwait(false);
            }

            return 0;
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            return 0; // asked to stop while starting
        }
        catch (Exception exception) when (exception is not OutOfMemoryException)
        {
            // The log already holds the details once logging is up; this line is for a start that failed before it.
            await parseResult.InvocationConfiguration.Error.WriteLineAsync($"broker: {exception.Message}").ConfigureAwait(false);
            return 1;
        }
    }
}
