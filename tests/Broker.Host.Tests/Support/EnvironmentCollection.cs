namespace Broker.Host.Tests.Support;

/// <summary>Tests that set process environment variables run alone, so no other test's broker reads them.</summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class EnvironmentCollection
{
    /// <summary>The collection's name.</summary>
    public const string Name = "Process environment";
}
