using Microsoft.Extensions.Logging;

namespace Broker.Management.Server;

/// <summary>The management API's log messages.</summary>
internal static partial class ManagementLog
{
    [LoggerMessage(EventId = 1, Level = LogLevel.Information, Message = "Management call {Method} refused: {Reason}")]
    public static partial void CallRefused(ILogger logger, string method, string reason);

    [LoggerMessage(EventId = 2, Level = LogLevel.Error, Message = "Management call {Method} failed unexpectedly")]
    public static partial void CallFailed(ILogger logger, string method, Exception exception);

    [LoggerMessage(EventId = 3, Level = LogLevel.Error, Message = "A plug-in management surface failed on {Path}")]
    public static partial void PluginSurfaceFailed(ILogger logger, string path, Exception exception);

    [LoggerMessage(EventId = 4, Level = LogLevel.Error, Message = "Service REST call {Method} {Path} failed unexpectedly")]
    public static partial void RestCallFailed(ILogger logger, string method, string path, Exception exception);
}
