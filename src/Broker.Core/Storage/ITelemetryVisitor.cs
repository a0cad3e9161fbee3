namespace Broker.Core.Storage;

/// <summary>Receives events from a <see cref="ITelemetryReader"/>.</summary>
public interface ITelemetryVisitor
{
    /// <summary>Called once per event, in log order; return false to stop after this one.</summary>
    bool Visit(in TelemetryEvent telemetryEvent);
}
