using System.Reflection;
using Microsoft.Extensions.Logging;

namespace Broker.Plugins.Loading;

/// <summary>A loaded plug-in: where it came from, its version, its entry instance and its load context.</summary>
public sealed class PluginHandle
{
    private readonly ILogger _logger;
    private readonly Action<PluginHandle> _onUnloaded;
    private PluginLoadContext? _loadContext;
    private Assembly? _assembly;
    private IBrokerPlugin? _plugin;
    private WeakReference? _unloaded;

    internal PluginHandle(PluginContext context, PluginManifest manifest, string assemblyPath, bool required, bool builtIn,
        PluginLoadContext loadContext, Assembly assembly, IBrokerPlugin plugin, ILogger logger, Action<PluginHandle> onUnloaded)
    {
        Context = context;
        Manifest = manifest;
        AssemblyPath = assemblyPath;
        IsRequired = required;
        IsBuiltIn = builtIn;
        _loadContext = loadContext;
        _assembly = assembly;
        _plugin = plugin;
        _logger = logger;
        _onUnloaded = onUnloaded;
        Version = assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion
            ?? assembly.GetName().Version?.ToString()
            ?? "0.0.0";
    }

    /// <summary>The plug-in's name (its folder's name).</summary>
    public string Name => Context.Name;

    /// <summary>The plug-in's folder.</summary>
    public string Directory => Context.Directory;

    /// <summary>The full path of the plug-in's main assembly.</summary>
    public string AssemblyPath { get; }

    /// <summary>The main assembly's informational version (its package version), or its assembly version.</summary>
    public string Version { get; }

    /// <summary>The validated manifest.</summary>
    public PluginManifest Manifest { get; }

    /// <summary>What the plug-in was told about itself.</summary>
    public PluginContext Context { get; }

    /// <summary>Whether startup fails when the plug-in fails (<c>Plugins:&lt;Name&gt;:Required</c>, by default <c>Plugins:FailOnError</c>).</summary>
    public bool IsRequired { get; }

    /// <summary>Whether the plug-in is one of the broker's own (<see cref="BuiltInPlugins"/>).</summary>
    public bool IsBuiltIn { get; }

    /// <summary>Whether the plug-in can be unloaded.</summary>
    public bool IsCollectible => Manifest.Collectible;

    /// <summary>Whether <see cref="UnloadAsync"/> has run.</summary>
    public bool IsUnloaded => _unloaded is not null;

    /// <summary>The plug-in's main assembly.</summary>
    /// <exception cref="InvalidOperationException">The plug-in was unloaded.</exception>
    public Assembly Assembly => _assembly ?? throw Unloaded();

    /// <summary>The plug-in's entry instance.</summary>
    /// <exception cref="InvalidOperationException">The plug-in was unloaded.</exception>
    public IBrokerPlugin Plugin => _plugin ?? throw Unloaded();

    /// <summary>
    /// Disposes the entry instance (if it is disposable), drops the loader's references to the plug-in and
    /// starts unloading its load context. The context is collected once nothing references the plug-in's
    /// types any more: every service it registered must have been released, which in practice means the
    /// service provider it was registered in has been disposed.
    /// </summary>
    /// <returns>A weak reference to the load context; it dies when the unloading is complete.</returns>
    /// <exception cref="InvalidOperationException">The plug-in is not collectible.</exception>
    public async ValueTask<WeakReference> UnloadAsync()
    {
        if (!IsCollectible)
        {
            throw new InvalidOperationException($"Plug-in '{Name}' is not collectible (\"collectible\": true in its {PluginManifest.FileName}).");
        }

        if (_unloaded is not null)
        {
            return _unloaded;
        }

        var plugin = _plugin;
        var loadContext = _loadContext!;
        _plugin = null;
        _assembly = null;
        _loadContext = null;
        _unloaded = new WeakReference(loadContext, trackResurrection: true);
        if (plugin is IAsyncDisposable asyncDisposable)
        {
            await asyncDisposable.DisposeAsync().ConfigureAwait(false);
        }
        else if (plugin is IDisposable disposable)
        {
            disposable.Dispose();
        }

        loadContext.Unload();
        _onUnloaded(this);
        PluginLog.Unloaded(_logger, Name);
        return _unloaded;
    }

    private InvalidOperationException Unloaded() => new($"Plug-in '{Name}' was unloaded.");
}
