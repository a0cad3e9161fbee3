using System.CommandLine;
using Broker.LoadGenerator;
using Broker.Management;

var host = new Option<string>("--host") { Description = "Broker address: loopback only (127.0.0.0/8, ::1, localhost).", DefaultValueFactory = _ => "127.0.0.1" };
var protocol = new Option<string>("--protocol") { Description = "mqtt, or amqp (SASL PLAIN + a sender link to /devices/{id}/messages/events).", DefaultValueFactory = _ => "mqtt" };
protocol.AcceptOnlyFromAmong("mqtt", "amqp");
var amqpAuth = new Option<string>("--amqp-auth") { Description = "AMQP: plain (SASL PLAIN with the SAS token) or cbs (no SASL, a CBS put-token).", DefaultValueFactory = _ => "plain" };
amqpAuth.AcceptOnlyFromAmong("plain", "cbs");
var port = new Option<int?>("--port") { Description = "Broker port; default 1883 (mqtt), 8883 (mqtt --tls), 5672 (amqp), 5671 (amqp --tls)." };
var tls = new Option<bool>("--tls") { Description = "Over TLS; needs --ca." };
var ca = new Option<string>("--ca") { Description = "PEM CA certificate the broker's certificate must chain to (e.g. DATA/tls/ca.crt)." };
var devices = new Option<int>("--devices") { Description = "Simulated devices, one connection each.", DefaultValueFactory = _ => 100 };
var prefix = new Option<string>("--device-prefix") { Description = "Device ids are PREFIX0000, PREFIX0001, …", DefaultValueFactory = _ => "load-" };
var qos = new Option<int>("--qos") { Description = "0 or 1 (AMQP: 0 = pre-settled transfers, 1 = unsettled, acknowledged by Accepted).", DefaultValueFactory = _ => 1 };
var rate = new Option<double>("--rate") { Description = "Target messages per second over all devices; 0 = flat out.", DefaultValueFactory = _ => 0 };
var window = new Option<int>("--window") { Description = "QoS 1: unacknowledged publishes (AMQP: unsettled transfers) allowed per device.", DefaultValueFactory = _ => 10 };
var payload = new Option<int>("--payload") { Description = "Payload bytes per message.", DefaultValueFactory = _ => 1024 };
var duration = new Option<double>("--duration") { Description = "Measured seconds (at most 600).", DefaultValueFactory = _ => 30 };
var warmup = new Option<double>("--warmup") { Description = "Seconds of load before measuring, excluded from the figures.", DefaultValueFactory = _ => 5 };
var connectParallel = new Option<int>("--connect-parallel") { Description = "Connections opened at once while connecting.", DefaultValueFactory = _ => 32 };
var noAuth = new Option<bool>("--no-auth") { Description = "No SAS tokens: MQTT a fixed user name and password (mosquitto with allow_anonymous), AMQP SASL ANONYMOUS." };
var createDevices = new Option<bool>("--create-devices") { Description = "Register the devices that are missing through the management API." };
var server = new Option<string>("--server") { Description = "The broker's management endpoint (loopback).", DefaultValueFactory = _ => "http://127.0.0.1:8081" };
var data = new Option<string>("--data") { Description = "The broker's data folder, for its iothubowner connection string.", DefaultValueFactory = _ => "./data" };
var connectionString = new Option<string>("--connection-string") { Description = "A policy connection string with RegistryRead/RegistryWrite, instead of --data." };
var client = new Option<string>("--client") { Description = "raw (sockets + the broker's codec) or mqttnet (MQTTnet 5, flat out only).", DefaultValueFactory = _ => "raw" };
client.AcceptOnlyFromAmong("raw", "mqttnet");
var brokerPid = new Option<int?>("--broker-pid") { Description = "Report this process's CPU use over the window too." };
var label = new Option<string>("--label") { Description = "Name of the target in the report.", DefaultValueFactory = _ => "broker" };

var root = new RootCommand("broker-load: simulated MQTT or AMQP devices that send telemetry to a loopback broker and report throughput and latency.")
{
    host, protocol, amqpAuth, port, tls, ca, devices, prefix, qos, rate, window, payload, duration, warmup, connectParallel,
    noAuth, createDevices, server, data, connectionString, client, brokerPid, label,
};

root.SetAction(async (parse, cancellationToken) =>
{
    var amqp = parse.GetValue(protocol) == "amqp";
    var useTls = parse.GetValue(tls);
    var options = new LoadOptions
    {
        Host = parse.GetValue(host)!,
        Protocol = amqp ? LoadProtocol.Amqp : LoadProtocol.Mqtt,
        AmqpAuth = parse.GetValue(amqpAuth) == "cbs" ? AmqpAuth.Cbs : AmqpAuth.Plain,
        Port = parse.GetValue(port) ?? (amqp ? (useTls ? 5671 : 5672) : (useTls ? 8883 : 1883)),
        Tls = useTls,
        CaFile = parse.GetValue(ca),
        Devices = parse.GetValue(devices),
        DevicePrefix = parse.GetValue(prefix)!,
        Qos = parse.GetValue(qos),
        Rate = parse.GetValue(rate),
        Window = parse.GetValue(window),
        PayloadBytes = parse.GetValue(payload),
        Duration = TimeSpan.FromSeconds(parse.GetValue(duration)),
        Warmup = TimeSpan.FromSeconds(parse.GetValue(warmup)),
        ConnectParallelism = parse.GetValue(connectParallel),
        NoAuth = parse.GetValue(noAuth),
        CreateDevices = parse.GetValue(createDevices),
        Client = parse.GetValue(client) == "mqttnet" ? ClientKind.MqttNet : ClientKind.Raw,
        BrokerPid = parse.GetValue(brokerPid),
        Label = parse.GetValue(label)!,
    };

    // This tool floods its target: it never points at anything but this machine.
    if (!LoadOptions.IsLoopback(options.Host))
    {
        Console.Error.WriteLine($"broker-load: refusing --host '{options.Host}': only loopback targets (127.0.0.0/8, ::1, localhost) are allowed.");
        return 2;
    }

    if (options.Validate() is { } invalid)
    {
        Console.Error.WriteLine("broker-load: " + invalid);
        return 2;
    }

    try
    {
        DeviceCredentials[] credentials;
        if (options.NoAuth)
        {
            credentials = DeviceProvisioner.Anonymous(options);
        }
        else
        {
            var serverValue = parse.GetValue(server)!;
            if (!Uri.TryCreate(serverValue, UriKind.Absolute, out var serverUri) || (serverUri.Scheme != Uri.UriSchemeHttp && serverUri.Scheme != Uri.UriSchemeHttps))
            {
                Console.Error.WriteLine($"broker-load: --server '{serverValue}' is not an http:// or https:// URL.");
                return 2;
            }

            if (!LoadOptions.IsLoopback(serverUri.Host))
            {
                Console.Error.WriteLine($"broker-load: refusing --server '{serverValue}': only loopback targets are allowed.");
                return 2;
            }

            var policy = parse.GetValue(connectionString);
            if (string.IsNullOrWhiteSpace(policy))
            {
                var dataDirectory = parse.GetValue(data)!;
                if (!LocalCredentials.TryRead(dataDirectory, out policy))
                {
                    Console.Error.WriteLine($"broker-load: no credentials: pass --connection-string or point --data at the running broker's folder (no {LocalCredentials.FileName} in '{dataDirectory}'), or use --no-auth.");
                    return 2;
                }
            }

            // Tokens outlive the run by an hour: expiry closes a connection, and that must not happen mid-run.
            var lifetime = options.Warmup + options.Duration + TimeSpan.FromHours(1);
            credentials = await DeviceProvisioner.ProvisionAsync(options, serverUri, policy, lifetime, cancellationToken);
        }

        var result = await LoadRunner.RunAsync(options, credentials, cancellationToken);
        Report.Write(Console.Out, result);
        return result.FailedDevices == 0 ? 0 : 1;
    }
    catch (LoadException e)
    {
        Console.Error.WriteLine("broker-load: " + e.Message);
        return 1;
    }
    catch (Exception e) when (e is Grpc.Core.RpcException or System.Net.Sockets.SocketException or IOException or TimeoutException or System.Security.Authentication.AuthenticationException)
    {
        Console.Error.WriteLine($"broker-load: {e.GetType().Name}: {e.Message}");
        return 1;
    }
});

var parsed = root.Parse(args);
if (parsed.Errors.Count > 0)
{
    foreach (var error in parsed.Errors)
    {
        Console.Error.WriteLine("broker-load: " + error.Message);
    }

    return 2;
}

return await parsed.InvokeAsync();
