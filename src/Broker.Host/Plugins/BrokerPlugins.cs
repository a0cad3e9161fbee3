using Microsoft.Extensions.Configuration;

namespace Broker.Host.Plugins;

/// <summary>Where the broker looks for plug-ins: <c>Plugins:Directory</c>, else <c>plugins/</c> beside the executable.</summary>
internal static class BrokerPlugins
{
    public static string DirectoryOf(IConfiguration configuration)
    {
        var configured = configuration["Plugins:Directory"];
        return string.IsNullOrWhiteSpace(configured)
            ? Path.Combine(AppContext.BaseDirectory, "plugins")
            : Path.GetFullPath(configured);
    }
}
