using Broker.Core.Security;
using System.CommandLine;
using Broker.Core.Registry;
using Broker.Management.V1;

namespace Broker.Management.Cli;

/// <summary><c>device create|show|list|update|delete|connection-string</c>.</summary>
internal static class DeviceCommands
{
    public static Command Create()
    {
        var options = new ClientOptions();
        var device = new Command("device", "Manage device identities in the registry.");
        options.AddTo(device);
        device.Add(CreateCommand(options));
        device.Add(ShowCommand(options));
        device.Add(ListCommand(options));
        device.Add(UpdateCommand(options));
        device.Add(DeleteCommand(options));
        device.Add(ConnectionStringCommand(options));
        device.Add(TokenCommand(options));
        return device;
    }

    private static Argument<string> IdArgument() => new("id") { Description = "The device id (case-sensitive)." };

    private static Option<string> StatusOption() => new Option<string>("--status") { Description = "enabled or disabled." }
        .AcceptOnlyFromAmong("enabled", "disabled");

    private static Command CreateCommand(ClientOptions options)
    {
        var id = IdArgument();
        var status = StatusOption();
        var x509 = new Option<bool>("--x509") { Description = "Authenticate with a self-signed certificate instead of keys." };
        var primaryThumbprint = new Option<string>("--primary-thumbprint") { Description = "SHA-1 or SHA-256 thumbprint (with --x509)." };
        var secondaryThumbprint = new Option<string>("--secondary-thumbprint") { Description = "SHA-1 or SHA-256 thumbprint (with --x509)." };
        var primaryKey = new Option<string>("--primary-key") { Description = "Base64 key; generated when left out." };
        var secondaryKey = new Option<string>("--secondary-key") { Description = "Base64 key; generated when left out." };
        var edge = new Option<bool>("--edge") { Description = "Register an IoT Edge device." };
        var command = new Command("create", "Register a device.") { id, status, x509, primaryThumbprint, secondaryThumbprint, primaryKey, secondaryKey, edge };
        command.SetAction((parse, cancellationToken) => CliRunner.RunAsync(parse, options, async (client, output, ct) =>
        {
            var authentication = Authentication(
                parse.GetValue(x509),
                parse.GetValue(primaryThumbprint),
                parse.GetValue(secondaryThumbprint),
                parse.GetValue(primaryKey),
                parse.GetValue(secondaryKey));
            var requested = new Device
            {
                DeviceId = parse.GetRequiredValue(id),
                Status = ParseStatus(parse.GetValue(status)) ?? DeviceStatus.Enabled,
                Authentication = authentication,
                Capabilities = new DeviceCapabilities { IotEdge = parse.GetValue(edge) },
            };
            var reply = await client.Registry.CreateDeviceAsync(new CreateDeviceRequest { DeviceJson = DeviceJson.Write(requested) }, client.CallOptions(ct));
            WriteDevice(output, reply.DeviceJson, parse.GetValue(options.Json));
        }, cancellationToken));
        return command;
    }

    private static Command ShowCommand(ClientOptions options)
    {
        var id = IdArgument();
        var command = new Command("show", "Show a device, keys included.") { id };
        command.SetAction((parse, cancellationToken) => CliRunner.RunAsync(parse, options, async (client, output, ct) =>
        {
            var reply = await client.Registry.GetDeviceAsync(new GetDeviceRequest { DeviceId = parse.GetRequiredValue(id) }, client.CallOptions(ct));
            WriteDevice(output, reply.DeviceJson, parse.GetValue(options.Json));
        }, cancellationToken));
        return command;
    }

    private static Command ListCommand(ClientOptions options)
    {
        var top = new Option<int>("--top") { Description = $"The most devices to list (at most {IdentityRegistry.MaxListCount})." };
        var command = new Command("list", "List devices, ordered by id.") { top };
        command.SetAction((parse, cancellationToken) => CliRunner.RunAsync(parse, options, async (client, output, ct) =>
        {
            var reply = await client.Registry.ListDevicesAsync(new ListDevicesRequest { Top = parse.GetValue(top) }, client.CallOptions(ct));
            if (parse.GetValue(options.Json))
            {
                JsonOutput.WriteArray(output, reply.DevicesJson);
            }
            else
            {
                DeviceFormat.WriteList(output, reply.DevicesJson.Select(DeviceFormat.Parse));
            }
        }, cancellationToken));
        return command;
    }

    private static Command UpdateCommand(ClientOptions options)
    {
        var id = IdArgument();
        var status = StatusOption();
        var statusReason = new Option<string>("--status-reason") { Description = "Why the status is what it is (at most 128 characters)." };
        var etag = new Option<string>("--etag") { Description = "Update only if the device still has this etag; default the etag just read." };
        var command = new Command("update", "Change a device's status.") { id, status, statusReason, etag };
        command.SetAction((parse, cancellationToken) => CliRunner.RunAsync(parse, options, async (client, output, ct) =>
        {
            var deviceId = parse.GetRequiredValue(id);
            var current = DeviceFormat.Parse((await client.Registry.GetDeviceAsync(new GetDeviceRequest { DeviceId = deviceId }, client.CallOptions(ct))).DeviceJson);
            var changed = current with
            {
                Status = ParseStatus(parse.GetValue(status)) ?? current.Status,
                StatusReason = parse.GetValue(statusReason) ?? current.StatusReason,
            };

            // Without --etag the read etag guards the write, so a change made between the read and the write is not lost.
            var request = new UpdateDeviceRequest { DeviceJson = DeviceJson.Write(changed), IfMatch = parse.GetValue(etag) ?? current.ETag ?? "" };
            var reply = await client.Registry.UpdateDeviceAsync(request, client.CallOptions(ct));
            WriteDevice(output, reply.DeviceJson, parse.GetValue(options.Json));
        }, cancellationToken));
        return command;
    }

    private static Command DeleteCommand(ClientOptions options)
    {
        var id = IdArgument();
        var etag = new Option<string>("--etag") { Description = "Delete only if the device still has this etag." };
        var command = new Command("delete", "Delete a device and its modules.") { id, etag };
        command.SetAction((parse, cancellationToken) => CliRunner.RunAsync(parse, options, async (client, output, ct) =>
        {
            var deviceId = parse.GetRequiredValue(id);
            await client.Registry.DeleteDeviceAsync(new DeleteDeviceRequest { DeviceId = deviceId, IfMatch = parse.GetValue(etag) ?? "" }, client.CallOptions(ct));
            if (parse.GetValue(options.Json))
            {
                await output.WriteLineAsync("{}");
            }
            else
            {
                await output.WriteLineAsync($"Deleted device {deviceId}.");
            }
        }, cancellationToken));
        return command;
    }

    private static Command ConnectionStringCommand(ClientOptions options)
    {
        var id = IdArgument();
        var command = new Command("connection-string", "Print the device's connection string (from its primary key) and nothing else.") { id };
        command.SetAction((parse, cancellationToken) => CliRunner.RunAsync(parse, options, async (client, output, ct) =>
        {
            var reply = await client.Registry.GetDeviceConnectionStringAsync(
                new GetDeviceConnectionStringRequest { DeviceId = parse.GetRequiredValue(id) }, client.CallOptions(ct));
            if (parse.GetValue(options.Json))
            {
                JsonOutput.WriteProperty(output, "connectionString", reply.ConnectionString);
            }
            else
            {
                await output.WriteLineAsync(reply.ConnectionString);
            }
        }, cancellationToken));
        return command;
    }

    /// <summary>
    /// <c>device token &lt;id&gt;</c>: a SAS token signed with the device's primary key, for stock MQTT clients
    /// (mosquitto_pub's -P) that cannot sign one themselves.
    /// </summary>
    private static Command TokenCommand(ClientOptions options)
    {
        var id = IdArgument();
        var duration = new Option<int>("--duration") { Description = "Seconds the token is valid (default 3600).", DefaultValueFactory = _ => 3600 };
        var command = new Command("token", "Print a SAS token for the device, signed with its primary key.") { id, duration };
        command.SetAction((parse, cancellationToken) => CliRunner.RunAsync(parse, options, async (client, output, ct) =>
        {
            var reply = await client.Registry.GetDeviceConnectionStringAsync(
                new GetDeviceConnectionStringRequest { DeviceId = parse.GetRequiredValue(id) }, client.CallOptions(ct));
            var parts = ConnectionStrings.TryParse(reply.ConnectionString) ?? [];
            if (!parts.TryGetValue("SharedAccessKey", out var key) || !parts.TryGetValue("HostName", out var host))
            {
                throw new CliException("the device has no symmetric key; it authenticates with a certificate.");
            }

            var seconds = parse.GetValue(duration);
            if (seconds <= 0)
            {
                throw new CliException("--duration must be a positive number of seconds.");
            }

            var token = SasTokenBuilder.Create(SasTokenBuilder.ResourceFor(host, parse.GetRequiredValue(id)), key, DateTimeOffset.UtcNow.AddSeconds(seconds));
            if (parse.GetValue(options.Json))
            {
                JsonOutput.WriteProperty(output, "sasToken", token);
            }
            else
            {
                await output.WriteLineAsync(token);
            }
        }, cancellationToken));
        return command;
    }

    /// <summary>The requested credentials; null lets the broker generate both keys.</summary>
    private static AuthenticationMechanism? Authentication(bool x509, string? primaryThumbprint, string? secondaryThumbprint, string? primaryKey, string? secondaryKey)
    {
        if (x509)
        {
            if (primaryKey is not null || secondaryKey is not null)
            {
                throw new CliException("--x509 cannot be combined with --primary-key or --secondary-key.");
            }

            return new AuthenticationMechanism
            {
                Type = AuthenticationType.SelfSigned,
                X509Thumbprint = new X509Thumbprint { PrimaryThumbprint = primaryThumbprint, SecondaryThumbprint = secondaryThumbprint },
            };
        }

        if (primaryThumbprint is not null || secondaryThumbprint is not null)
        {
            throw new CliException("--primary-thumbprint and --secondary-thumbprint need --x509.");
        }

        return primaryKey is null && secondaryKey is null
            ? null
            : new AuthenticationMechanism
            {
                Type = AuthenticationType.Sas,
                SymmetricKey = new SymmetricKey { PrimaryKey = primaryKey, SecondaryKey = secondaryKey },
            };
    }

    private static DeviceStatus? ParseStatus(string? status) => status switch
    {
        "enabled" => DeviceStatus.Enabled,
        "disabled" => DeviceStatus.Disabled,
        _ => null,
    };

    private static void WriteDevice(TextWriter output, string json, bool asJson)
    {
        if (asJson)
        {
            JsonOutput.WriteObject(output, json);
        }
        else
        {
            DeviceFormat.WriteOne(output, DeviceFormat.Parse(json));
        }
    }
}
