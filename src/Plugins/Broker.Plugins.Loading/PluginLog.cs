using Microsoft.Extensions.Logging;

namespace Broker.Plugins.Loading;

/// <summary>The plug-in loader's log messages (source-generated).</summary>
internal static partial class PluginLog
{
    [LoggerMessage(3000, LogLevel.Information, "Plug-in {Name} {Version} loaded from {Directory} (entry {EntryType}, collectible: {Collectible}).")]
    public static partial void Loaded(ILogger logger, string name, string version, string directory, string entryType, bool collectible);

    [LoggerMessage(3001, LogLevel.Information, "Plug-in {Name} is disabled (Plugins:{Name}:Enabled is false).")]
    public static partial void Disabled(ILogger logger, string name);

    [LoggerMessage(3002, LogLevel.Error, "Plug-in {Name} failed to load ({Reason}): {Detail} It is required (Plugins:{Name}:Required or Plugins:FailOnError).")]
    public static partial void RequiredFailed(ILogger logger, Exception? exception, string name, PluginLoadFailureReason reason, string detail);

    [LoggerMessage(3003, LogLevel.Warning, "Plug-in {Name} failed to load ({Reason}): {Detail} It is not required; the broker goes on without it.")]
    public static partial void OptionalFailed(ILogger logger, Exception? exception, string name, PluginLoadFailureReason reason, string detail);

    [LoggerMessage(3004, LogLevel.Information, "Plug-in {Name} unloaded.")]
    public static partial void Unloaded(ILogger logger, string name);

    [LoggerMessage(3005, LogLevel.Information, "No plug-ins: {Directory} does not exist.")]
    public static partial void NoDirectory(ILogger logger, string directory);

    [LoggerMessage(3006, LogLevel.Debug, "Plug-in {Name} registered {Count} services.")]
    public static partial void ServicesRegistered(ILogger logger, string name, int count);
}
