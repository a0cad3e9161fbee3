using System.CommandLine;
using System.Text;
using Broker.Management.V1;
using Google.Protobuf;

namespace Broker.Management.Cli;

/// <summary><c>c2d send|purge|feedback</c>: cloud-to-device messages and their feedback.</summary>
internal static class CloudToDeviceCommands
{
    public static Command Create()
    {
        var options = new ClientOptions();
        var c2d = new Command("c2d", "Send cloud-to-device messages and read their feedback.");
        options.AddTo(c2d);
        c2d.Add(SendCommand(options));
        c2d.Add(PurgeCommand(options));
        c2d.Add(FeedbackCommand(options));
        return c2d;
    }

    private static Command SendCommand(ClientOptions options)
    {
        var device = new Argument<string>("device") { Description = "The device id." };
        var body = new Argument<string>("body") { Description = "The message body (UTF-8 text)." };
        var properties = new Option<string[]>("--property") { Description = "An application property K=V; repeat for more.", AllowMultipleArgumentsPerToken = false };
        var messageId = new Option<string>("--message-id") { Description = "The message id (feedback refers to it); a new GUID when left out." };
        var correlationId = new Option<string>("--correlation-id") { Description = "The correlation id." };
        var contentType = new Option<string>("--content-type") { Description = "The content type, e.g. application/json." };
        var contentEncoding = new Option<string>("--content-encoding") { Description = "The content encoding, e.g. utf-8." };
        var ack = new Option<string>("--ack") { Description = "Feedback wanted: none (default), positive, negative or full." }
            .AcceptOnlyFromAmong("none", "positive", "negative", "full");
        var ttl = new Option<int>("--ttl") { Description = "Time to live in seconds (default: the hub's, 1 hour; at most 2 days)." };
        var command = new Command("send", "Queue a message for a device; prints its message id once it is stored.")
        {
            device, body, properties, messageId, correlationId, contentType, contentEncoding, ack, ttl,
        };
        command.SetAction((parse, cancellationToken) => CliRunner.RunAsync(parse, options, async (client, output, ct) =>
        {
            var request = new SendMessageRequest
            {
                DeviceId = parse.GetRequiredValue(device),
                Body = ByteString.CopyFrom(Encoding.UTF8.GetBytes(parse.GetRequiredValue(body))),
                MessageId = parse.GetValue(messageId) ?? Guid.NewGuid().ToString(),
                CorrelationId = parse.GetValue(correlationId) ?? "",
                ContentType = parse.GetValue(contentType) ?? "",
                ContentEncoding = parse.GetValue(contentEncoding) ?? "",
                Ack = parse.GetValue(ack) ?? "none",
                TtlSeconds = parse.GetValue(ttl),
            };
            foreach (var property in parse.GetValue(properties) ?? [])
            {
                int equals = property.IndexOf('=', StringComparison.Ordinal);
                if (equals <= 0)
                {
                    throw new CliException($"--property '{property}' is not K=V.");
                }

                request.Properties[property[..equals]] = property[(equals + 1)..];
            }

            var reply = await client.CloudToDevice.SendMessageAsync(request, client.CallOptions(ct));
            if (parse.GetValue(options.Json))
            {
                JsonOutput.WriteObject(output, $$"""{"messageId":{{Quote(reply.MessageId)}},"sequenceNumber":{{reply.SequenceNumber}},"enqueuedTimeUtc":{{Quote(reply.EnqueuedTimeUtc)}},"expiryTimeUtc":{{Quote(reply.ExpiryTimeUtc)}}}""");
                return;
            }

            await output.WriteLineAsync(reply.MessageId);
        }, cancellationToken));
        return command;
    }

    private static Command PurgeCommand(ClientOptions options)
    {
        var device = new Argument<string>("device") { Description = "The device id." };
        var command = new Command("purge", "Delete every pending message of a device.") { device };
        command.SetAction((parse, cancellationToken) => CliRunner.RunAsync(parse, options, async (client, output, ct) =>
        {
            var reply = await client.CloudToDevice.PurgeQueueAsync(new PurgeQueueRequest { DeviceId = parse.GetRequiredValue(device) }, client.CallOptions(ct));
            JsonOutput.WriteObject(output, $$"""{"totalMessagesPurged":{{reply.TotalMessagesPurged}},"deviceId":{{Quote(reply.DeviceId)}},"moduleId":null}""");
        }, cancellationToken));
        return command;
    }

    private static Command FeedbackCommand(ClientOptions options)
    {
        var count = new Option<int>("--count") { Description = "Stop after this many feedback messages (default: run until interrupted)." };
        var command = new Command("feedback", "Stream feedback messages (JSON arrays of records), completing each once printed.") { count };
        command.SetAction((parse, cancellationToken) => CliRunner.RunAsync(parse, options, async (client, output, ct) =>
        {
            int wanted = parse.GetValue(count);
            int received = 0;
            using var stop = CancellationTokenSource.CreateLinkedTokenSource(ct);
            using var call = client.CloudToDevice.ReceiveFeedback(new ReceiveFeedbackRequest(), client.StreamOptions(stop.Token));
            try
            {
                while (await call.ResponseStream.MoveNext(stop.Token))
                {
                    var message = call.ResponseStream.Current;
                    JsonOutput.WriteObject(output, message.Body.ToStringUtf8());
                    await output.FlushAsync(stop.Token);
                    await client.CloudToDevice.CompleteFeedbackAsync(new SettleFeedbackRequest { LockToken = message.LockToken }, client.CallOptions(stop.Token));
                    if (wanted > 0 && ++received >= wanted)
                    {
                        await stop.CancelAsync();
                        return;
                    }
                }
            }
            catch (Grpc.Core.RpcException e) when (e.StatusCode == Grpc.Core.StatusCode.Cancelled && ct.IsCancellationRequested)
            {
                // Interrupted (Ctrl+C): the normal way a tailing command ends.
            }
        }, cancellationToken));
        return command;
    }

    internal static string Quote(string value) => System.Text.Json.JsonSerializer.Serialize(value, ManagementJsonContext.Default.String);
}
