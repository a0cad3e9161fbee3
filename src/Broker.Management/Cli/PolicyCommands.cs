using System.CommandLine;
using System.Text.Json;
using Broker.Core.Registry;
using Broker.Core.Security;
using Broker.Management.V1;

namespace Broker.Management.Cli;

/// <summary><c>policy list|show|token</c>: the hub's shared access policies.</summary>
internal static class PolicyCommands
{
    public static Command Create()
    {
        var options = new ClientOptions();
        var policy = new Command("policy", "Read the hub's shared access policies.");
        options.AddTo(policy);
        policy.Add(ListCommand(options));
        policy.Add(ShowCommand(options));
        policy.Add(TokenCommand(options));
        return policy;
    }

    private static Command ListCommand(ClientOptions options)
    {
        var command = new Command("list", "List the policies and their rights.");
        command.SetAction((parse, cancellationToken) => CliRunner.RunAsync(parse, options, async (client, output, ct) =>
        {
            var reply = await client.Policies.ListPoliciesAsync(new ListPoliciesRequest(), client.CallOptions(ct));
            if (parse.GetValue(options.Json))
            {
                JsonOutput.WriteArray(output, reply.PoliciesJson);
                return;
            }

            var table = new TextTable("NAME", "RIGHTS");
            foreach (var policy in reply.PoliciesJson.Select(Parse))
            {
                table.AddRow(policy.KeyName, policy.Rights.ToString());
            }

            table.WriteTo(output);
        }, cancellationToken));
        return command;
    }

    private static Command ShowCommand(ClientOptions options)
    {
        var name = new Argument<string>("name") { Description = "The policy name, e.g. iothubowner." };
        var command = new Command("show", "Show a policy; its keys only if your own policy holds all its rights.") { name };
        command.SetAction((parse, cancellationToken) => CliRunner.RunAsync(parse, options, async (client, output, ct) =>
        {
            var reply = await client.Policies.GetPolicyAsync(new GetPolicyRequest { Name = parse.GetRequiredValue(name) }, client.CallOptions(ct));
            if (parse.GetValue(options.Json))
            {
                JsonOutput.WriteObject(output, reply.PolicyJson);
                return;
            }

            var policy = Parse(reply.PolicyJson);
            var table = new TextTable();
            table.AddRow("keyName", policy.KeyName);
            table.AddRow("rights", policy.Rights.ToString());
            table.AddRow("primaryKey", policy.PrimaryKey);
            table.AddRow("secondaryKey", policy.SecondaryKey);
            table.AddRow("connectionString", policy.PrimaryKey.Length == 0 ? "" : ConnectionStrings.ForPolicy(client.HostName, policy.KeyName, policy.PrimaryKey));
            table.WriteTo(output);
        }, cancellationToken));
        return command;
    }

    /// <summary>
    /// <c>policy token &lt;name&gt;</c>: a SAS token of the policy, for calling the service REST API with a stock HTTP
    /// client (<c>curl -H "Authorization: $(broker policy token iothubowner)"</c>).
    /// </summary>
    private static Command TokenCommand(ClientOptions options)
    {
        var name = new Argument<string>("name") { Description = "The policy name, e.g. iothubowner." };
        var duration = new Option<int>("--duration") { Description = "Seconds the token is valid (default 3600).", DefaultValueFactory = _ => 3600 };
        var command = new Command("token", "Print a SAS token for a policy, signed with its primary key (your own policy must hold all its rights).") { name, duration };
        command.SetAction((parse, cancellationToken) => CliRunner.RunAsync(parse, options, async (client, output, ct) =>
        {
            int seconds = parse.GetValue(duration);
            if (seconds <= 0)
            {
                throw new CliException("--duration must be a positive number of seconds.");
            }

            var reply = await client.Policies.GetPolicyAsync(new GetPolicyRequest { Name = parse.GetRequiredValue(name) }, client.CallOptions(ct));
            var policy = Parse(reply.PolicyJson);
            if (policy.PrimaryKey.Length == 0)
            {
                throw new CliException($"your policy may not read the keys of {policy.KeyName}: it lacks some of its rights.");
            }

            string token = SasTokenBuilder.Create(client.HostName, policy.PrimaryKey, DateTimeOffset.UtcNow.AddSeconds(seconds), policy.KeyName);
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

    private static SharedAccessPolicy Parse(string json)
        => JsonSerializer.Deserialize(json, RegistryJsonContext.Default.SharedAccessPolicy) ?? throw new CliException("the broker returned an empty policy.");
}
