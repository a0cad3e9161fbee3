using Microsoft.Extensions.Logging;

namespace Broker.Core.Routing;

/// <summary>Routing's log messages (source-generated).</summary>
internal static partial class RoutingLog
{
    [LoggerMessage(600, LogLevel.Warning, "Routing endpoint {Endpoint} (partition {Partition}) failed to take {Count} message(s); offering them again in {Delay}.")]
    public static partial void SinkFailed(ILogger logger, string endpoint, int partition, int count, TimeSpan delay, Exception exception);

    [LoggerMessage(601, LogLevel.Error, "Routing endpoint {Endpoint} (partition {Partition}) stopped: its events log failed.")]
    public static partial void PumpStopped(ILogger logger, string endpoint, int partition, Exception exception);
}
