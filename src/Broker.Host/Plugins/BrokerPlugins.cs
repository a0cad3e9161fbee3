using Broker.Plugins.Loading;
using Microsoft.Extensions.Configuration;

namespace Broker.Host.Plugins;

/// <summary>
/// Where the broker finds plug-ins. Its own (built-in) plug-ins are always in <c>plugins/</c> beside the executable;
/// the operator's are in <c>Plugins:Directory</c>, by default that same folder. An operator who moves their plug-ins
/// elsewhere therefore keeps the built-in ones.
/// </summary>
internal static class BrokerPlugins
{
    /// <summary>The built-in plug-ins, in load order: device authentication (SAS, X.509), then the management gRPC API.</summary>
    public static readonly IReadOnlyList<string> BuiltInNames = ["DeviceAuth", "ManagementApi"];

    /// <summary><c>plugins/</c> beside the executable.</summary>
    public static string DefaultDirectory => Path.Combine(AppContext.BaseDirectory, "plugins");

    /// <summary>The operator's plug-ins folder: <c>Plugins:Directory</c>, else <see cref="DefaultDirectory"/>.</summary>
    public static string DirectoryOf(IConfiguration configuration)
    {
        var configured = configuration["Plugins:Directory"];
        return string.IsNullOrWhiteSpace(configured) ? DefaultDirectory : Path.GetFullPath(configured);
    }

    /// <summary>The built-in plug-ins in <paramref name="directory"/>, else in <see cref="DefaultDirectory"/>.</summary>
    public static BuiltInPlugins BuiltIn(string? directory = null) => new(directory ?? DefaultDirectory, BuiltInNames);
}
