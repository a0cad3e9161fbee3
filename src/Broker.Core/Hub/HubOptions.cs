namespace Broker.Core.Hub;

/// <summary>Hub-wide settings.</summary>
public sealed class HubOptions
{
    /// <summary>The hub's host name, as used in connection strings and SAS resources (default <c>localhost</c>).</summary>
    public string HostName { get; set; } = "localhost";
}
