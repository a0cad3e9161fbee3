using Broker.Plugins;
using Broker.Plugins.Authentication;
using Microsoft.Extensions.DependencyInjection;

namespace AllowListAuthenticator;

/// <summary>
/// Admits X.509 devices whose certificate thumbprint is on an allow-list file in the plug-in's folder.
/// Settings (<c>Plugins:AllowListAuthenticator:…</c>): <c>File</c>, the list (default <c>allowlist.txt</c>,
/// relative to the plug-in's folder), and <c>DeclineUnlisted</c> (default false: devices not on the list are
/// left to the next provider).
/// </summary>
public sealed class AllowListPlugin : IBrokerPlugin
{
    /// <inheritdoc />
    public void ConfigureServices(IServiceCollection services, PluginContext context)
    {
        ArgumentNullException.ThrowIfNull(services);
        ArgumentNullException.ThrowIfNull(context);
        string file = Path.Combine(context.Directory, context.Configuration["File"] ?? "allowlist.txt");
        bool declineUnlisted = bool.TryParse(context.Configuration["DeclineUnlisted"], out bool decline) && decline;

        // Read now, so a missing or malformed list stops the plug-in at startup rather than at the first device.
        var list = AllowList.Load(file);
        services.AddSingleton<IDeviceAuthenticationProvider>(new AllowListAuthenticationProvider(list, declineUnlisted));
    }
}
