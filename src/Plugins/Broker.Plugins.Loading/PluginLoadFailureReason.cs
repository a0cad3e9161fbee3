namespace Broker.Plugins.Loading;

/// <summary>Why a plug-in could not be loaded.</summary>
public enum PluginLoadFailureReason
{
    /// <summary>The folder's name is one of the loader's own configuration keys (<c>FailOnError</c>, <c>Directory</c>).</summary>
    InvalidName,

    /// <summary><c>Plugins:&lt;Name&gt;:Enabled</c> or <c>Required</c> is not <c>true</c> or <c>false</c>.</summary>
    ConfigurationInvalid,

    /// <summary>The configuration marks the plug-in as required but there is no folder for it.</summary>
    NotFound,

    /// <summary>The folder has no <c>plugin.json</c>.</summary>
    ManifestMissing,

    /// <summary><c>plugin.json</c> is not valid JSON or lacks a field the loader needs.</summary>
    ManifestInvalid,

    /// <summary>The assembly the manifest names is not in the folder.</summary>
    AssemblyMissing,

    /// <summary>The assembly could not be loaded (not a .NET assembly, or built for another runtime).</summary>
    AssemblyInvalid,

    /// <summary>The plug-in needs a newer contract than the host provides.</summary>
    HostContractTooOld,

    /// <summary>The plug-in was built for an older major version of the contract than the host provides.</summary>
    HostContractTooNew,

    /// <summary>The entry type is not in the assembly.</summary>
    EntryTypeMissing,

    /// <summary>The entry type does not implement <see cref="IBrokerPlugin"/> or has no public parameterless constructor.</summary>
    EntryTypeNotPlugin,

    /// <summary>The entry type's constructor threw.</summary>
    ConstructorThrew,

    /// <summary><see cref="IBrokerPlugin.ConfigureServices"/> threw.</summary>
    ConfigureServicesThrew,
}
