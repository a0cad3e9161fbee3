namespace Broker.Plugins.Loading;

/// <summary>
/// The plug-ins the broker consists of (device authentication, the management API): they ship with the broker in
/// their own folder, are always required and cannot be disabled, and load before the operator's plug-ins.
/// </summary>
public sealed class BuiltInPlugins
{
    /// <summary>Names the built-in plug-ins and the folder that holds them.</summary>
    /// <param name="directory">The folder with one sub-folder per built-in plug-in (the broker's own <c>plugins/</c>).</param>
    /// <param name="names">The built-in plug-ins' names (their folders' names), loaded in this order.</param>
    public BuiltInPlugins(string directory, IEnumerable<string> names)
    {
        ArgumentException.ThrowIfNullOrEmpty(directory);
        ArgumentNullException.ThrowIfNull(names);
        Directory = Path.GetFullPath(directory);
        Names = [.. names];
    }

    /// <summary>The full path of the folder that holds the built-in plug-ins.</summary>
    public string Directory { get; }

    /// <summary>The built-in plug-ins' names, in load order.</summary>
    public IReadOnlyList<string> Names { get; }

    /// <summary>Whether <paramref name="name"/> is a built-in plug-in's (case-insensitive, as folder names on some file systems).</summary>
    public bool Contains(string name) => Names.Contains(name, StringComparer.OrdinalIgnoreCase);
}
