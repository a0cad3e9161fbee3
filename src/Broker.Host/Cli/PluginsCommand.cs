using System.CommandLine;
using Broker.Host.Hosting;
using Broker.Host.Plugins;
using Broker.Plugins.Loading;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Logging.Abstractions;

namespace Broker.Host.Cli;

/// <summary>
/// <c>broker plugins list</c>: what the broker loads (its built-in plug-ins and the operator's), from where, at which
/// version, and what fails.
/// </summary>
internal sealed class PluginsCommand : Command
{
    public PluginsCommand()
        : base("plugins", "Inspect the plug-ins the broker loads.")
    {
        var config = new Option<FileInfo?>("--config") { Description = "The broker's configuration file (default: appsettings.json in the current folder)." };
        var directory = new Option<DirectoryInfo?>("--dir") { Description = "The operator's plug-ins folder (default: Plugins:Directory, else plugins/ beside the broker); the built-in ones always come from plugins/ beside the broker." };
        var list = new Command("list", "List loaded, failing and disabled plug-ins (loads them the way serve does, without starting anything).") { config, directory };
        list.SetAction((parse, _) =>
        {
            var settings = new BrokerServerSettings { ConfigFile = parse.GetValue(config)?.FullName };
            var configuration = new ConfigurationBuilder().AddBrokerSources(settings).Build();
            var folder = parse.GetValue(directory)?.FullName ?? BrokerPlugins.DirectoryOf(configuration);
            var catalog = new PluginLoader(configuration, NullLoggerFactory.Instance).Inspect(folder, BrokerPlugins.BuiltIn());
            var output = parse.InvocationConfiguration.Output;
            output.WriteLine($"built-in plug-ins folder: {catalog.BuiltInDirectory}");
            output.WriteLine($"plug-ins folder: {catalog.Directory}");
            // Versions carry the commit (1.0.0+3f2a…): the column is as wide as the longest.
            int versionWidth = Math.Max("VERSION".Length, catalog.Plugins.Select(plugin => plugin.Version.Length).DefaultIfEmpty(0).Max());
            output.WriteLine($"{"NAME",-24} {"VERSION".PadRight(versionWidth)} {"BUILT-IN",-8} {"COLLECTIBLE",-11} ENTRY TYPE (FOLDER)");
            foreach (var plugin in catalog.Plugins)
            {
                output.WriteLine($"{plugin.Name,-24} {plugin.Version.PadRight(versionWidth)} {(plugin.IsBuiltIn ? "yes" : "no"),-8} {(plugin.Manifest.Collectible ? "yes" : "no"),-11} {plugin.Manifest.EntryType} ({plugin.Directory})");
            }

            foreach (var failure in catalog.Failures)
            {
                output.WriteLine($"{failure.PluginName,-24} FAILED: {failure.Reason}{(failure.IsRequired ? " (required)" : "")}: {failure.Detail}");
            }

            foreach (var disabled in catalog.Disabled)
            {
                output.WriteLine($"{disabled,-24} disabled");
            }

            return Task.FromResult(catalog.Failures.Any(f => f.IsRequired) ? 1 : 0);
        });
        Subcommands.Add(list);
    }
}
