using System.Reflection;
using System.Runtime.Loader;

namespace Broker.Plugins.Loading;

/// <summary>
/// One plug-in's assemblies: its own dependencies from its folder (resolved through its <c>.deps.json</c>),
/// everything in <see cref="SharedAssemblies"/> from the host, and with <c>shareHostAssemblies</c> every
/// assembly the host ships.
/// </summary>
internal sealed class PluginLoadContext : AssemblyLoadContext
{
    private readonly AssemblyDependencyResolver _resolver;
    private readonly bool _shareHostAssemblies;
    private readonly string _mainAssemblyName;

    public PluginLoadContext(string pluginName, string mainAssemblyPath, bool collectible, bool shareHostAssemblies)
        : base("Plugin:" + pluginName, collectible)
    {
        _resolver = new AssemblyDependencyResolver(mainAssemblyPath);
        _shareHostAssemblies = shareHostAssemblies;
        _mainAssemblyName = Path.GetFileNameWithoutExtension(mainAssemblyPath);
    }

    protected override Assembly? Load(AssemblyName assemblyName)
    {
        string? name = assemblyName.Name;
        if (name is null)
        {
            return null;
        }

        if (SharedAssemblies.IsHostPreferred(name))
        {
            // By simple name: the host's version wins, whichever one the plug-in was compiled against.
            try
            {
                return Default.LoadFromAssemblyName(new AssemblyName(name));
            }
            catch (FileNotFoundException)
            {
                // The host does not have it, so no type of it crosses the boundary: the plug-in's copy is fine.
            }
        }
        else if (SharedAssemblies.IsFramework(name))
        {
            return null;
        }
        else if (_shareHostAssemblies && SharedAssemblies.IsHostShipped(name)
            && !string.Equals(name, _mainAssemblyName, StringComparison.OrdinalIgnoreCase))
        {
            // A built-in plug-in exchanges the host's own types (its registry, its web stack): one copy, the host's,
            // even if the plug-in's folder holds another. The plug-in's own assembly is always the plug-in's.
            return Default.LoadFromAssemblyName(new AssemblyName(name));
        }

        string? path = _resolver.ResolveAssemblyToPath(assemblyName);
        // Null falls back to the default context: framework facades and whatever else the host offers.
        return path is null ? null : LoadFromAssemblyPath(path);
    }

    protected override IntPtr LoadUnmanagedDll(string unmanagedDllName)
    {
        string? path = _resolver.ResolveUnmanagedDllToPath(unmanagedDllName);
        return path is null ? IntPtr.Zero : LoadUnmanagedDllFromPath(path);
    }
}
