using Microsoft.Extensions.DependencyInjection;

namespace Broker.Plugins;

/// <summary>
/// The entry type of a plug-in, named by <c>entryType</c> in its <c>plugin.json</c>. The host creates it once
/// with its public parameterless constructor and calls <see cref="ConfigureServices"/> before the host's
/// service provider is built.
/// </summary>
/// <remarks>
/// A plug-in contributes by registering implementations of the extension points
/// (<see cref="Authentication.IDeviceAuthenticationProvider"/>, <see cref="Routing.IEndpointSink"/>,
/// <see cref="FileUpload.IFileUploadStorage"/>, <see cref="Management.IManagementSurface"/>) and whatever
/// services they need. The host resolves the extension points from its container; a plug-in may resolve
/// host services such as <see cref="Management.IHubServiceClient"/> and <c>ILogger&lt;T&gt;</c> in return.
/// If the entry type implements <see cref="IDisposable"/> or <see cref="IAsyncDisposable"/>, it is disposed
/// when the plug-in is unloaded.
/// </remarks>
public interface IBrokerPlugin
{
    /// <summary>Registers the plug-in's services in the host's service collection.</summary>
    /// <param name="services">The host's services; registrations are only applied if this method returns normally.</param>
    /// <param name="context">The plug-in's name, folder, configuration section and the host's contract version.</param>
    void ConfigureServices(IServiceCollection services, PluginContext context);
}
