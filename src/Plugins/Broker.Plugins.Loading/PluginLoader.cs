using System.Collections.Frozen;
using System.Reflection;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Logging;

namespace Broker.Plugins.Loading;

/// <summary>
/// Loads the plug-ins in <c>plugins/&lt;Name&gt;/</c>, each into its own <see cref="System.Runtime.Loader.AssemblyLoadContext"/>,
/// configured by the <c>Plugins</c> section: <c>Plugins:FailOnError</c> (default true) and, per plug-in,
/// <c>Plugins:&lt;Name&gt;:Enabled</c> (default true), <c>Plugins:&lt;Name&gt;:Required</c> (default
/// <c>FailOnError</c>) and whatever else the plug-in reads from its section.
/// </summary>
/// <remarks>
/// A plug-in that fails to load is logged and recorded with its name, folder and reason; if it is required,
/// startup stops with its <see cref="PluginLoadException"/>, otherwise the broker goes on without it.
/// </remarks>
public sealed class PluginLoader
{
    /// <summary>The configuration section of the loader and the plug-ins.</summary>
    public const string SectionName = "Plugins";

    /// <summary>The loader's own keys in <see cref="SectionName"/>; no plug-in may be named after them.</summary>
    public static readonly IReadOnlySet<string> ReservedNames = new[] { "FailOnError", "Directory" }.ToFrozenSet(StringComparer.OrdinalIgnoreCase);

    private readonly IConfiguration _section;
    private readonly ILogger _logger;

    /// <summary>Creates a loader.</summary>
    /// <param name="configuration">The host's configuration (the loader reads its <see cref="SectionName"/> section).</param>
    /// <param name="loggerFactory">Where the loader logs what it loads and what fails.</param>
    public PluginLoader(IConfiguration configuration, ILoggerFactory loggerFactory)
    {
        ArgumentNullException.ThrowIfNull(configuration);
        ArgumentNullException.ThrowIfNull(loggerFactory);
        _section = configuration.GetSection(SectionName);
        _logger = loggerFactory.CreateLogger("Broker.Plugins");
    }

    /// <summary>The contract version this host provides to plug-ins (Major.Minor).</summary>
    public static Version ContractVersion => SharedAssemblies.ContractVersion;

    /// <summary>Loads every enabled plug-in in <paramref name="directory"/> (a missing directory means no plug-ins).</summary>
    /// <param name="directory">The plug-ins directory, with one folder per plug-in.</param>
    /// <returns>The loaded, failed and disabled plug-ins.</returns>
    /// <exception cref="PluginLoadException">A required plug-in failed; the first one in name order.</exception>
    /// <exception cref="InvalidDataException"><c>Plugins:FailOnError</c> is not <c>true</c> or <c>false</c>.</exception>
    public PluginCatalog Load(string directory) => Load(directory, null);

    /// <summary>
    /// Loads the built-in plug-ins, then every enabled plug-in in <paramref name="directory"/> (a missing directory
    /// means no plug-ins of the operator's).
    /// </summary>
    /// <param name="directory">The operator's plug-ins directory, with one folder per plug-in.</param>
    /// <param name="builtIn">The broker's own plug-ins, which must all load; null when there are none.</param>
    /// <returns>The loaded, failed and disabled plug-ins.</returns>
    /// <exception cref="PluginLoadException">A required plug-in failed; the first one in load order.</exception>
    /// <exception cref="InvalidDataException"><c>Plugins:FailOnError</c> is not <c>true</c> or <c>false</c>.</exception>
    public PluginCatalog Load(string directory, BuiltInPlugins? builtIn)
    {
        var catalog = LoadAll(directory, builtIn);
        var stop = catalog.Failures.FirstOrDefault(failure => failure.IsRequired);
        return stop is null ? catalog : throw stop;
    }

    /// <summary>
    /// Loads like <see cref="Load(string)"/> but never throws for a plug-in, so every failure, required or not, can be
    /// shown (<c>broker plugins list</c>).
    /// </summary>
    /// <param name="directory">The plug-ins directory, with one folder per plug-in.</param>
    /// <returns>The loaded, failed and disabled plug-ins.</returns>
    /// <exception cref="InvalidDataException"><c>Plugins:FailOnError</c> is not <c>true</c> or <c>false</c>.</exception>
    public PluginCatalog Inspect(string directory) => Inspect(directory, null);

    /// <summary>Loads like <see cref="Load(string, BuiltInPlugins)"/> but never throws for a plug-in (<c>broker plugins list</c>).</summary>
    /// <param name="directory">The operator's plug-ins directory, with one folder per plug-in.</param>
    /// <param name="builtIn">The broker's own plug-ins; null when there are none.</param>
    /// <returns>The loaded, failed and disabled plug-ins.</returns>
    /// <exception cref="InvalidDataException"><c>Plugins:FailOnError</c> is not <c>true</c> or <c>false</c>.</exception>
    public PluginCatalog Inspect(string directory, BuiltInPlugins? builtIn) => LoadAll(directory, builtIn);

    private PluginCatalog LoadAll(string directory, BuiltInPlugins? builtIn)
    {
        ArgumentException.ThrowIfNullOrEmpty(directory);
        string root = Path.GetFullPath(directory);
        var catalog = new PluginCatalog(root, builtIn?.Directory, _logger);
        bool failOnError = ReadBool(_section, "FailOnError", true)
            ?? throw new InvalidDataException($"{SectionName}:FailOnError must be true or false; it is '{_section["FailOnError"]}'.");

        var found = new HashSet<string>(StringComparer.OrdinalIgnoreCase);
        if (builtIn is not null)
        {
            // The broker's own plug-ins first: the operator's see their services (TryAdd does not override them).
            foreach (string name in builtIn.Names)
            {
                found.Add(name);
                LoadBuiltIn(catalog, name, builtIn.Directory);
            }
        }

        string[] folders = [];
        if (System.IO.Directory.Exists(root))
        {
            folders = [.. System.IO.Directory.GetDirectories(root).Order(StringComparer.Ordinal)];
        }
        else
        {
            PluginLog.NoDirectory(_logger, root);
        }

        bool sameAsBuiltIn = builtIn is not null && string.Equals(Path.TrimEndingDirectorySeparator(root),
            Path.TrimEndingDirectorySeparator(builtIn.Directory), StringComparison.Ordinal);
        foreach (string folder in folders)
        {
            string name = Path.GetFileName(folder);
            if (builtIn is not null && builtIn.Contains(name))
            {
                if (!sameAsBuiltIn)
                {
                    // Two plug-ins of one name would share a configuration section and a log name.
                    catalog.Fail(new PluginLoadException(name, folder, PluginLoadFailureReason.InvalidName,
                        $"'{name}' is a built-in plug-in's name (loaded from {builtIn.Directory}); rename the folder.",
                        ReadBool(_section.GetSection(name), "Required", failOnError) ?? failOnError, null));
                }

                continue;
            }

            found.Add(name);
            LoadOne(catalog, name, folder, failOnError);
        }

        // A plug-in the configuration requires must be there: a missing authenticator should not go unnoticed.
        foreach (var section in _section.GetChildren().OrderBy(section => section.Key, StringComparer.Ordinal))
        {
            if (!ReservedNames.Contains(section.Key) && !found.Contains(section.Key)
                && ReadBool(section, "Required", false) == true && ReadBool(section, "Enabled", true) != false)
            {
                catalog.Fail(new PluginLoadException(section.Key, Path.Combine(root, section.Key), PluginLoadFailureReason.NotFound,
                    $"{SectionName}:{section.Key}:Required is true but there is no folder {section.Key} in {root}.", true, null));
            }
        }

        return catalog;
    }

    private void LoadBuiltIn(PluginCatalog catalog, string name, string builtInDirectory)
    {
        string folder = Path.Combine(builtInDirectory, name);
        var section = _section.GetSection(name);
        if (ReadBool(section, "Enabled", true) != true || ReadBool(section, "Required", true) != true)
        {
            catalog.Fail(new PluginLoadException(name, folder, PluginLoadFailureReason.ConfigurationInvalid,
                $"{name} is built into the broker: it is always required, so {SectionName}:{name}:Enabled and {SectionName}:{name}:Required may only be true.",
                true, null));
            return;
        }

        if (!System.IO.Directory.Exists(folder))
        {
            catalog.Fail(new PluginLoadException(name, folder, PluginLoadFailureReason.NotFound,
                $"the built-in plug-in {name} is missing: there is no folder {name} in {builtInDirectory}. The broker's installation is incomplete; publish or install it again.",
                true, null));
            return;
        }

        Add(catalog, name, folder, section, required: true, builtIn: true);
    }

    private void LoadOne(PluginCatalog catalog, string name, string folder, bool failOnError)
    {
        var section = _section.GetSection(name);
        bool? required = ReadBool(section, "Required", failOnError);
        bool? enabled = ReadBool(section, "Enabled", true);
        bool isRequired = required ?? failOnError;
        PluginLoadException Failure(PluginLoadFailureReason reason, string detail, Exception? inner = null) =>
            new(name, folder, reason, detail, isRequired, inner);

        if (ReservedNames.Contains(name))
        {
            catalog.Fail(Failure(PluginLoadFailureReason.InvalidName, $"'{name}' is one of the loader's own settings ({SectionName}:{name}); rename the folder."));
            return;
        }

        if (required is null || enabled is null)
        {
            catalog.Fail(Failure(PluginLoadFailureReason.ConfigurationInvalid,
                $"{SectionName}:{name}:Enabled and {SectionName}:{name}:Required must be true or false."));
            return;
        }

        if (enabled == false)
        {
            PluginLog.Disabled(_logger, name);
            catalog.AddDisabled(name);
            return;
        }

        Add(catalog, name, folder, section, isRequired, builtIn: false);
    }

    private void Add(PluginCatalog catalog, string name, string folder, IConfigurationSection section, bool required, bool builtIn)
    {
        try
        {
            var handle = Load(catalog, name, folder, section, required, builtIn);
            catalog.AddLoaded(handle);
            PluginLog.Loaded(_logger, name, handle.Version, folder, handle.Manifest.EntryType, handle.IsCollectible);
        }
        catch (PluginLoadException ex)
        {
            catalog.Fail(ex);
        }
    }

    private PluginHandle Load(PluginCatalog catalog, string name, string folder, IConfigurationSection section, bool required, bool builtIn)
    {
        PluginLoadException Failure(PluginLoadFailureReason reason, string detail, Exception? inner = null) =>
            new(name, folder, reason, detail, required, inner);

        string manifestPath = Path.Combine(folder, PluginManifest.FileName);
        if (!File.Exists(manifestPath))
        {
            throw Failure(PluginLoadFailureReason.ManifestMissing, $"there is no {PluginManifest.FileName} in the folder.");
        }

        if (!PluginManifestReader.TryRead(manifestPath, out var manifest, out string? error))
        {
            throw Failure(PluginLoadFailureReason.ManifestInvalid, error);
        }

        string assemblyPath = Path.Combine(folder, manifest.AssemblyFileName);
        if (!File.Exists(assemblyPath))
        {
            throw Failure(PluginLoadFailureReason.AssemblyMissing, $"the assembly {manifest.AssemblyFileName} named by {PluginManifest.FileName} is not in the folder.");
        }

        // The manifest is checked first: an incompatible plug-in is refused before any of its code is loaded.
        CheckContract(manifest.MinimumContractVersion, $"{PluginManifest.FileName} asks for", Failure);

        PluginLoadContext loadContext;
        try
        {
            loadContext = new PluginLoadContext(name, assemblyPath, manifest.Collectible, manifest.ShareHostAssemblies);
        }
        catch (InvalidOperationException ex)
        {
            // The dependency resolver could not read the plug-in's .deps.json.
            throw Failure(PluginLoadFailureReason.AssemblyInvalid, $"the dependencies of {manifest.AssemblyFileName} could not be resolved: {ex.Message}", ex);
        }

        try
        {
            Assembly assembly;
            try
            {
                assembly = loadContext.LoadFromAssemblyPath(assemblyPath);
            }
            catch (Exception ex) when (ex is BadImageFormatException or FileLoadException)
            {
                throw Failure(PluginLoadFailureReason.AssemblyInvalid, $"{manifest.AssemblyFileName} could not be loaded: {ex.Message}", ex);
            }

            if (SharedAssemblies.ReferencedContractVersion(assembly) is { } compiledAgainst)
            {
                CheckContract(compiledAgainst, $"{manifest.AssemblyFileName} was built against", Failure);
            }

            var plugin = Create(assembly, manifest, Failure);
            var context = new PluginContext
            {
                Name = name,
                Directory = folder,
                Configuration = section,
                ContractVersion = SharedAssemblies.ContractVersion,
            };
            return new PluginHandle(context, manifest, assemblyPath, required, builtIn, loadContext, assembly, plugin, _logger, catalog.Remove);
        }
        catch when (manifest.Collectible)
        {
            loadContext.Unload(); // nothing of a failed collectible plug-in stays loaded
            throw;
        }
    }

    private static IBrokerPlugin Create(Assembly assembly, PluginManifest manifest,
        Func<PluginLoadFailureReason, string, Exception?, PluginLoadException> failure)
    {
        Type? type;
        try
        {
            type = assembly.GetType(manifest.EntryType, throwOnError: false);
        }
        catch (Exception ex) when (ex is TypeLoadException or FileNotFoundException or FileLoadException or BadImageFormatException)
        {
            throw failure(PluginLoadFailureReason.EntryTypeMissing, $"the entry type {manifest.EntryType} could not be loaded: {ex.Message}", ex);
        }

        if (type is null)
        {
            throw failure(PluginLoadFailureReason.EntryTypeMissing, $"the entry type {manifest.EntryType} is not in {manifest.AssemblyFileName}.", null);
        }

        if (!typeof(IBrokerPlugin).IsAssignableFrom(type))
        {
            throw failure(PluginLoadFailureReason.EntryTypeNotPlugin, $"the entry type {manifest.EntryType} does not implement {typeof(IBrokerPlugin).FullName}.", null);
        }

        if (type.IsAbstract || type.ContainsGenericParameters || type.GetConstructor(Type.EmptyTypes) is null)
        {
            throw failure(PluginLoadFailureReason.EntryTypeNotPlugin, $"the entry type {manifest.EntryType} has no public parameterless constructor.", null);
        }

        try
        {
            return (IBrokerPlugin)Activator.CreateInstance(type)!;
        }
        catch (TargetInvocationException ex) when (ex.InnerException is not null)
        {
            var thrown = ex.InnerException;
            throw failure(PluginLoadFailureReason.ConstructorThrew, $"the constructor of {manifest.EntryType} threw {thrown.GetType().Name}: {thrown.Message}", thrown);
        }
    }

    private static void CheckContract(Version wanted, string what, Func<PluginLoadFailureReason, string, Exception?, PluginLoadException> failure)
    {
        var host = SharedAssemblies.ContractVersion;
        var plugin = SharedAssemblies.Normalize(wanted);
        if (plugin.Major < host.Major)
        {
            throw failure(PluginLoadFailureReason.HostContractTooNew,
                $"{what} contract {plugin}, but this host provides contract {host}: a new major version of the contract is not compatible; rebuild the plug-in against Broker.Plugins.Abstractions {host.Major}.x.", null);
        }

        if (plugin > host)
        {
            throw failure(PluginLoadFailureReason.HostContractTooOld,
                $"{what} contract {plugin}, but this host provides contract {host}; upgrade the broker or use a plug-in version built for contract {host}.", null);
        }
    }

    /// <summary>The value of a boolean setting, <paramref name="fallback"/> when unset, null when it is not a boolean.</summary>
    private static bool? ReadBool(IConfiguration section, string key, bool fallback)
    {
        string? value = section[key];
        return value is null ? fallback : bool.TryParse(value, out bool parsed) ? parsed : null;
    }
}
