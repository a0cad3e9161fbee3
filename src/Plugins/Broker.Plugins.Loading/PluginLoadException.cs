namespace Broker.Plugins.Loading;

/// <summary>A plug-in could not be loaded; names the plug-in, its folder and the reason.</summary>
public sealed class PluginLoadException : Exception
{
    /// <summary>Creates the exception.</summary>
    /// <param name="pluginName">The plug-in's name (its folder's name).</param>
    /// <param name="directory">The plug-in's folder.</param>
    /// <param name="reason">What went wrong.</param>
    /// <param name="detail">A sentence that says what went wrong and, where it can, what to do.</param>
    /// <param name="isRequired">Whether the failure stops startup.</param>
    /// <param name="innerException">What the plug-in or the runtime threw, if anything.</param>
    public PluginLoadException(string pluginName, string directory, PluginLoadFailureReason reason, string detail, bool isRequired,
        Exception? innerException)
        : base($"Plug-in '{pluginName}' ({directory}) failed to load: {detail}", innerException)
    {
        PluginName = pluginName;
        Directory = directory;
        Reason = reason;
        Detail = detail;
        IsRequired = isRequired;
    }

    /// <summary>The plug-in's name (its folder's name).</summary>
    public string PluginName { get; }

    /// <summary>The plug-in's folder.</summary>
    public string Directory { get; }

    /// <summary>What went wrong.</summary>
    public PluginLoadFailureReason Reason { get; }

    /// <summary>Whether the failure stops startup (<c>Plugins:&lt;Name&gt;:Required</c>, by default <c>Plugins:FailOnError</c>).</summary>
    public bool IsRequired { get; }

    /// <summary>The failure without the plug-in's name, for tables such as <c>broker plugins list</c>.</summary>
    public string Detail { get; }
}
