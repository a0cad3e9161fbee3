using System.CommandLine;
using Broker.Management.Cli;

namespace Broker.Management.Tests;

/// <summary>Runs the CLI in-process as the broker executable will: a root command with the management commands added.</summary>
internal static class Cli
{
    public static async Task<CliResult> RunAsync(params string[] args)
    {
        var root = new RootCommand("broker");
        ManagementCommands.AddTo(root);
        var output = new StringWriter();
        var error = new StringWriter();
        int exitCode = await root.Parse(args).InvokeAsync(new InvocationConfiguration { Output = output, Error = error });
        return new CliResult(exitCode, output.ToString(), error.ToString());
    }
}
