using System.CommandLine;
using Broker.Management.Cli;

namespace Broker.Host.Cli;

/// <summary>The <c>broker</c> command line: <c>serve</c> runs the hub; <c>device</c> and <c>policy</c> call its management API.</summary>
public static class BrokerCommandLine
{
    /// <summary>The root command with every subcommand.</summary>
    public static RootCommand CreateRootCommand()
    {
        var root = new RootCommand("Broker: a self-hosted hub with Azure IoT Hub's device and service surface.");
        root.Subcommands.Add(new ServeCommand());
        ManagementCommands.AddTo(root); // device and policy commands, clients of a running broker's management API
        root.Subcommands.Add(new PluginsCommand());
        return root;
    }

    /// <summary>Parses <paramref name="args"/> and runs the command; help and errors go to the given writers (default: the console).</summary>
    public static Task<int> InvokeAsync(string[] args, TextWriter? output = null, TextWriter? error = null, CancellationToken cancellationToken = default)
    {
        var configuration = new InvocationConfiguration
        {
            // The generic host handles SIGINT and SIGTERM itself and shuts down in order (listeners, connections,
            // store); System.CommandLine's own handler would end the process after a fixed timeout instead.
            ProcessTerminationTimeout = null,
        };
        if (output is not null)
        {
            configuration.Output = output;
        }

        if (error is not null)
        {
            configuration.Error = error;
        }

        return CreateRootCommand().Parse(args).InvokeAsync(configuration, cancellationToken);
    }
}
