using System.CommandLine;

namespace Broker.Management.Cli;

/// <summary>The management CLI: client commands that call a running broker's management API.</summary>
public static class ManagementCommands
{
    /// <summary>
    /// Adds <c>device create|show|list|update|delete|connection-string</c>, <c>policy list|show</c>,
    /// <c>monitor</c>, <c>consumer-group create|list|delete</c>, <c>c2d send|purge|feedback</c>, <c>twin show|update</c> and <c>method invoke</c> to <paramref name="root"/>. Each takes <c>--server</c>, <c>--connection-string</c>, <c>--data</c> and
    /// <c>--json</c>, and exits 1 with one <c>error: …</c> line on failure.
    /// </summary>
    public static void AddTo(RootCommand root)
    {
        ArgumentNullException.ThrowIfNull(root);
        root.Add(DeviceCommands.Create());
        root.Add(PolicyCommands.Create());
        root.Add(EventCommands.Monitor());
        root.Add(EventCommands.ConsumerGroup());
        root.Add(CloudToDeviceCommands.Create());
        root.Add(TwinCommands.Create());
        root.Add(MethodCommands.Create());
    }
}
