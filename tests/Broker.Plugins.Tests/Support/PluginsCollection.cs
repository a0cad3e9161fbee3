namespace Broker.Plugins.Tests.Support;

/// <summary>
/// The plug-in tests share one build of the test plug-ins and run one at a time: the unload test counts on
/// garbage collections that no other test's plug-ins disturb.
/// </summary>
[CollectionDefinition(Name)]
public sealed class PluginsCollection : ICollectionFixture<PluginBuildFixture>
{
    public const string Name = "Plug-ins";
}
