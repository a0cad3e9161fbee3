using System.CommandLine;
using System.Globalization;
using Broker.Management.V1;
using Grpc.Core;

namespace Broker.Management.Cli;

/// <summary><c>monitor</c> (read telemetry like <c>az iot hub monitor-events</c>) and <c>consumer-group create|list|delete</c>.</summary>
internal static class EventCommands
{
    public static Command Monitor()
    {
        var options = new ClientOptions();
        var device = new Option<string>("--device", "-d") { Description = "Only events from this device id." };
        var group = new Option<string>("--consumer-group", "--cg") { Description = "The consumer group to read as.", DefaultValueFactory = _ => "$Default" };
        var from = new Option<string>("--from")
        {
            Description = "Where to start: start (oldest retained), end (only new events), checkpoint (the group's committed position) or an RFC 3339 enqueued time.",
            DefaultValueFactory = _ => "end",
        };
        var partition = new Option<int?>("--partition", "-p") { Description = "Read one partition; all by default." };
        var timeout = new Option<double>("--timeout", "-t") { Description = "Stop after this many seconds; 0 (default) runs until Ctrl+C." };
        var max = new Option<int>("--max") { Description = "Stop after this many events; 0 (default) means no limit." };
        var command = new Command("monitor", "Print the telemetry devices send, one JSON object per event, as az iot hub monitor-events does.")
        {
            device, group, from, partition, timeout, max,
        };
        command.Add(options.Server);
        command.Add(options.ConnectionString);
        command.Add(options.Data);
        command.SetAction((parse, cancellationToken) => CliRunner.RunAsync(parse, options, async (client, output, ct) =>
        {
            var request = Request(parse.GetValue(from) ?? "end", parse.GetValue(group), parse.GetValue(device), parse.GetValue(partition));
            double seconds = parse.GetValue(timeout);
            int limit = parse.GetValue(max);
            if (seconds < 0 || limit < 0)
            {
                throw new CliException("--timeout and --max must not be negative.");
            }

            using var stop = CancellationTokenSource.CreateLinkedTokenSource(ct);
            if (seconds > 0)
            {
                stop.CancelAfter(TimeSpan.FromSeconds(seconds));
            }

            await parse.InvocationConfiguration.Error.WriteLineAsync(
                string.IsNullOrEmpty(request.DeviceId)
                    ? "Starting event monitor, use ctrl-c to stop..."
                    : $"Starting event monitor, filtering on device: {request.DeviceId}, use ctrl-c to stop...");
            int count = 0;
            try
            {
                using var call = client.Events.ReadEvents(request, client.StreamOptions(stop.Token));
                while (await call.ResponseStream.MoveNext(stop.Token))
                {
                    await output.WriteLineAsync(EventJson.Format(call.ResponseStream.Current));
                    if (limit > 0 && ++count >= limit)
                    {
                        return;
                    }
                }
            }
            catch (Exception e) when (stop.IsCancellationRequested && e is OperationCanceledException or RpcException { StatusCode: StatusCode.Cancelled })
            {
                // --timeout or Ctrl+C: a normal end of monitoring.
            }
        }, cancellationToken));
        return command;
    }

    public static Command ConsumerGroup()
    {
        var options = new ClientOptions();
        var command = new Command("consumer-group", "Manage the consumer groups of the built-in events endpoint.");
        options.AddTo(command);
        command.Add(CreateCommand(options));
        command.Add(ListCommand(options));
        command.Add(DeleteCommand(options));
        return command;
    }

    /// <summary>The read request for <c>--from</c>: start, end, checkpoint or an enqueued time.</summary>
    internal static ReadEventsRequest Request(string from, string? group, string? device, int? partition)
    {
        var request = new ReadEventsRequest { ConsumerGroup = group ?? "", DeviceId = device ?? "" };
        if (partition is { } p)
        {
            request.Partition = p;
        }

        switch (from.ToLowerInvariant())
        {
            case "start":
                request.Start = StartPosition.Start;
                break;
            case "end":
                request.Start = StartPosition.End;
                break;
            case "checkpoint":
                request.Start = StartPosition.Checkpoint;
                break;
            default:
                if (!DateTimeOffset.TryParse(from, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var time))
                {
                    throw new CliException($"--from '{from}' is not start, end, checkpoint or an RFC 3339 time.");
                }

                request.Start = StartPosition.EnqueuedTime;
                request.EnqueuedTime = time.UtcDateTime.ToString("O", CultureInfo.InvariantCulture);
                break;
        }

        return request;
    }

    private static Argument<string> NameArgument() => new("name") { Description = "The consumer group: up to 50 letters, digits, '.', '_' or '-'." };

    private static Command CreateCommand(ClientOptions options)
    {
        var name = NameArgument();
        var command = new Command("create", "Create a consumer group (at most 20 per hub, $Default included).") { name };
        command.SetAction((parse, cancellationToken) => CliRunner.RunAsync(parse, options, async (client, output, ct) =>
        {
            var reply = await client.Events.CreateConsumerGroupAsync(new ConsumerGroupRequest { Name = parse.GetRequiredValue(name) }, client.CallOptions(ct));
            if (parse.GetValue(options.Json))
            {
                JsonOutput.WriteProperty(output, "name", reply.Name);
            }
            else
            {
                await output.WriteLineAsync($"Created consumer group {reply.Name}.");
            }
        }, cancellationToken));
        return command;
    }

    private static Command ListCommand(ClientOptions options)
    {
        var command = new Command("list", "List the consumer groups, $Default first.");
        command.SetAction((parse, cancellationToken) => CliRunner.RunAsync(parse, options, async (client, output, ct) =>
        {
            var reply = await client.Events.ListConsumerGroupsAsync(new ListConsumerGroupsRequest(), client.CallOptions(ct));
            if (parse.GetValue(options.Json))
            {
                JsonOutput.WriteArray(output, reply.Names.Select(n => System.Text.Json.JsonSerializer.Serialize(n, ManagementJsonContext.Default.String)));
                return;
            }

            var table = new TextTable("NAME");
            foreach (var groupName in reply.Names)
            {
                table.AddRow(groupName);
            }

            table.WriteTo(output);
        }, cancellationToken));
        return command;
    }

    private static Command DeleteCommand(ClientOptions options)
    {
        var name = NameArgument();
        var command = new Command("delete", "Delete a consumer group and its checkpoints ($Default cannot be deleted).") { name };
        command.SetAction((parse, cancellationToken) => CliRunner.RunAsync(parse, options, async (client, output, ct) =>
        {
            var reply = await client.Events.DeleteConsumerGroupAsync(new ConsumerGroupRequest { Name = parse.GetRequiredValue(name) }, client.CallOptions(ct));
            if (parse.GetValue(options.Json))
            {
                await output.WriteLineAsync("{}");
            }
            else
            {
                await output.WriteLineAsync($"Deleted consumer group {reply.Name}.");
            }
        }, cancellationToken));
        return command;
    }
}
