namespace Broker.TestPlugins.Lifecycle;

/// <summary>Has a public constructor but does not implement IBrokerPlugin.</summary>
public sealed class NotAPlugin
{
}
