using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Broker.Plugins.Loading;

/// <summary>
/// What <see cref="PluginLoader"/> found: the loaded plug-ins (name, folder, version), the ones that failed
/// and why, and the disabled ones. <c>broker plugins list</c> prints it.
/// </summary>
public sealed class PluginCatalog
{
    private readonly Lock _gate = new();
    private readonly List<PluginHandle> _plugins = [];
    private readonly List<PluginLoadException> _failures = [];
    private readonly List<string> _disabled = [];
    private readonly ILogger _logger;
    private bool _servicesConfigured;

    internal PluginCatalog(string directory, string? builtInDirectory, ILogger logger)
    {
        Directory = directory;
        BuiltInDirectory = builtInDirectory;
        _logger = logger;
    }

    /// <summary>The full path of the (operator's) plug-ins directory.</summary>
    public string Directory { get; }

    /// <summary>The full path of the folder the built-in plug-ins come from; null when there are none.</summary>
    public string? BuiltInDirectory { get; }

    /// <summary>The loaded plug-ins in load order (the built-in ones, then the others by name); unloaded ones leave the list.</summary>
    public IReadOnlyList<PluginHandle> Plugins
    {
        get
        {
            lock (_gate)
            {
                return [.. _plugins];
            }
        }
    }

    /// <summary>
    /// Every plug-in that failed to load, in name order. When a required one fails, <see cref="PluginLoader.Load"/>
    /// and <see cref="ConfigureServices"/> record it here and then throw it.
    /// </summary>
    public IReadOnlyList<PluginLoadException> Failures
    {
        get
        {
            lock (_gate)
            {
                return [.. _failures];
            }
        }
    }

    /// <summary>The names of the plug-ins turned off with <c>Plugins:&lt;Name&gt;:Enabled = false</c>.</summary>
    public IReadOnlyList<string> Disabled
    {
        get
        {
            lock (_gate)
            {
                return [.. _disabled];
            }
        }
    }

    /// <summary>
    /// Lets each loaded plug-in register its services in <paramref name="services"/>, in name order. A plug-in
    /// whose <see cref="IBrokerPlugin.ConfigureServices"/> throws leaves no registration behind and moves to
    /// <see cref="Failures"/>, or stops startup if it is required. Call it once, before the provider is built.
    /// </summary>
    /// <exception cref="PluginLoadException">A required plug-in threw; the first such failure.</exception>
    public void ConfigureServices(IServiceCollection services)
    {
        ArgumentNullException.ThrowIfNull(services);
        PluginLoadException? stop = null;
        foreach (var plugin in Begin())
        {
            var staged = new PluginServiceCollection(services);
            try
            {
                plugin.Plugin.ConfigureServices(staged, plugin.Context);
            }
            catch (Exception ex)
            {
                var failure = new PluginLoadException(plugin.Name, plugin.Directory, PluginLoadFailureReason.ConfigureServicesThrew,
                    $"{plugin.Manifest.EntryType}.ConfigureServices threw {ex.GetType().Name}: {ex.Message}", plugin.IsRequired, ex);
                lock (_gate)
                {
                    _plugins.Remove(plugin);
                }

                Fail(failure);
                stop ??= failure.IsRequired ? failure : null;
                continue;
            }

            foreach (var descriptor in staged.Added)
            {
                services.Add(descriptor);
            }

            PluginLog.ServicesRegistered(_logger, plugin.Name, staged.Added.Count);
        }

        if (stop is not null)
        {
            throw stop;
        }
    }

    internal void AddLoaded(PluginHandle plugin)
    {
        lock (_gate)
        {
            _plugins.Add(plugin);
        }
    }

    internal void AddDisabled(string name)
    {
        lock (_gate)
        {
            _disabled.Add(name);
        }
    }

    internal void Fail(PluginLoadException failure)
    {
        if (failure.IsRequired)
        {
            PluginLog.RequiredFailed(_logger, failure.InnerException, failure.PluginName, failure.Reason, failure.Detail);
        }
        else
        {
            PluginLog.OptionalFailed(_logger, failure.InnerException, failure.PluginName, failure.Reason, failure.Detail);
        }

        lock (_gate)
        {
            _failures.Add(failure);
        }
    }

    internal void Remove(PluginHandle plugin)
    {
        lock (_gate)
        {
            _plugins.Remove(plugin);
        }
    }

    private List<PluginHandle> Begin()
    {
        lock (_gate)
        {
            if (_servicesConfigured)
            {
                throw new InvalidOperationException("The plug-ins' services are already configured.");
            }

            _servicesConfigured = true;
            return [.. _plugins];
        }
    }
}
