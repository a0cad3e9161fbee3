using System.CommandLine;
using Broker.Management.V1;

namespace Broker.Management.Cli;

/// <summary><c>method invoke</c>: direct methods.</summary>
internal static class MethodCommands
{
    public static Command Create()
    {
        var options = new ClientOptions();
        var method = new Command("method", "Invoke direct methods on connected devices.");
        options.AddTo(method);
        method.Add(InvokeCommand(options));
        return method;
    }

    private static Command InvokeCommand(ClientOptions options)
    {
        var device = new Argument<string>("device") { Description = "The device id." };
        var name = new Argument<string>("method") { Description = "The method name." };
        var module = new Option<string>("--module") { Description = "Invoke on a module of the device." };
        var payload = new Option<string>("--payload") { Description = "The JSON payload (default null)." };
        var timeout = new Option<int>("--timeout") { Description = "Seconds to wait for the device's answer (5–300, default 30).", DefaultValueFactory = _ => 30 };
        var connectTimeout = new Option<int>("--connect-timeout") { Description = "Seconds to wait for the device to connect and subscribe (0–300, default 0)." };
        var command = new Command("invoke", "Invoke a method; prints {\"status\":…,\"payload\":…} from the device. Exits 1 with 404103 (offline) or 504101 (no answer in time).")
        {
            device, name, module, payload, timeout, connectTimeout,
        };
        command.SetAction((parse, cancellationToken) => CliRunner.RunAsync(parse, options, async (client, output, ct) =>
        {
            int responseSeconds = parse.GetValue(timeout);
            int connectSeconds = parse.GetValue(connectTimeout);
            var reply = await client.Methods.InvokeMethodAsync(new InvokeMethodRequest
            {
                DeviceId = parse.GetRequiredValue(device),
                ModuleId = parse.GetValue(module) ?? "",
                MethodName = parse.GetRequiredValue(name),
                PayloadJson = parse.GetValue(payload) ?? "",
                ResponseTimeoutSeconds = responseSeconds,
                ConnectTimeoutSeconds = connectSeconds,
            }, client.CallOptions(TimeSpan.FromSeconds(Math.Max(responseSeconds, 0) + Math.Max(connectSeconds, 0)), ct));
            JsonOutput.WriteObject(output, $$"""{"status":{{reply.Status}},"payload":{{reply.PayloadJson}}}""");
        }, cancellationToken));
        return command;
    }
}
