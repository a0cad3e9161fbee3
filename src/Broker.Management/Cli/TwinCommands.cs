using System.CommandLine;
using System.Text.Json;
using System.Text.Json.Nodes;
using Broker.Management.V1;

namespace Broker.Management.Cli;

/// <summary><c>twin show|update</c>: device and module twins.</summary>
internal static class TwinCommands
{
    public static Command Create()
    {
        var options = new ClientOptions();
        var twin = new Command("twin", "Read and update device twins.");
        options.AddTo(twin);
        twin.Add(ShowCommand(options));
        twin.Add(UpdateCommand(options));
        return twin;
    }

    private static Option<string> ModuleOption() => new("--module") { Description = "A module's twin instead of the device's." };

    private static Command ShowCommand(ClientOptions options)
    {
        var device = new Argument<string>("device") { Description = "The device id." };
        var module = ModuleOption();
        var command = new Command("show", "Show a twin: tags, desired and reported properties with their versions and metadata.") { device, module };
        command.SetAction((parse, cancellationToken) => CliRunner.RunAsync(parse, options, async (client, output, ct) =>
        {
            var reply = await client.Twins.GetTwinAsync(new GetTwinRequest
            {
                DeviceId = parse.GetRequiredValue(device),
                ModuleId = parse.GetValue(module) ?? "",
            }, client.CallOptions(ct));
            JsonOutput.WriteObject(output, reply.TwinJson);
        }, cancellationToken));
        return command;
    }

    private static Command UpdateCommand(ClientOptions options)
    {
        var device = new Argument<string>("device") { Description = "The device id." };
        var module = ModuleOption();
        var desired = new Option<string>("--desired") { Description = "A JSON merge patch of the desired properties (null deletes)." };
        var tags = new Option<string>("--tags") { Description = "A JSON merge patch of the tags (null deletes)." };
        var etag = new Option<string>("--etag") { Description = "Only if the twin still has this etag (412001 otherwise)." };
        var command = new Command("update", "Patch a twin's desired properties and/or tags; connected devices get the desired change at once.")
        {
            device, module, desired, tags, etag,
        };
        command.SetAction((parse, cancellationToken) => CliRunner.RunAsync(parse, options, async (client, output, ct) =>
        {
            var patch = new JsonObject();
            if (parse.GetValue(tags) is { } tagsJson)
            {
                patch["tags"] = ParseObject("--tags", tagsJson);
            }

            if (parse.GetValue(desired) is { } desiredJson)
            {
                patch["properties"] = new JsonObject { ["desired"] = ParseObject("--desired", desiredJson) };
            }

            if (patch.Count == 0)
            {
                throw new CliException("give --desired, --tags or both.");
            }

            var reply = await client.Twins.UpdateTwinAsync(new UpdateTwinRequest
            {
                DeviceId = parse.GetRequiredValue(device),
                ModuleId = parse.GetValue(module) ?? "",
                TwinJson = patch.ToJsonString(),
                IfMatch = parse.GetValue(etag) ?? "",
            }, client.CallOptions(ct));
            JsonOutput.WriteObject(output, reply.TwinJson);
        }, cancellationToken));
        return command;
    }

    private static JsonObject ParseObject(string option, string json)
    {
        try
        {
            return JsonNode.Parse(json) as JsonObject ?? throw new CliException($"{option} must be a JSON object.");
        }
        catch (JsonException e)
        {
            throw new CliException($"{option} is not JSON: {e.Message}");
        }
    }
}
