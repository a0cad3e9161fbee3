namespace Broker.Host.Hosting;

/// <summary>Process-wide limits (configuration section <c>Limits</c>).</summary>
public sealed class BrokerLimitsOptions
{
    /// <summary>The configuration section.</summary>
    public const string SectionName = "Limits";

    /// <summary>
    /// The most open connections over all listeners (default 100,000; empty for no limit). Kestrel closes
    /// connections beyond it before any protocol work, so a flood cannot exhaust memory or file handles.
    /// </summary>
    public long? MaxConnections { get; set; } = 100_000;

    /// <summary>Throws <see cref="InvalidDataException"/> for a limit below 1.</summary>
    public void Validate()
    {
        if (MaxConnections is < 1)
        {
            throw new InvalidDataException($"Limits:MaxConnections must be at least 1 (or empty for no limit), not {MaxConnections}.");
        }
    }
}
