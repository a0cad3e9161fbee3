using Broker.Plugins;
using Broker.Plugins.Routing;
using Microsoft.Extensions.DependencyInjection;

namespace WebhookSink;

/// <summary>
/// A routing endpoint that POSTs each batch of routed messages to an HTTP URL as a JSON array.
/// Settings (<c>Plugins:WebhookSink:…</c>): <c>Url</c> (required) and <c>Endpoint</c>, the endpoint name routes use
/// (default <c>webhook</c>).
/// </summary>
public sealed class WebhookPlugin : IBrokerPlugin
{
    /// <inheritdoc />
    public void ConfigureServices(IServiceCollection services, PluginContext context)
    {
        ArgumentNullException.ThrowIfNull(services);
        ArgumentNullException.ThrowIfNull(context);
        string endpoint = context.Configuration["Endpoint"] ?? "webhook";
        // Checked now, so a missing or malformed URL stops the plug-in at startup rather than at the first message.
        if (!Uri.TryCreate(context.Configuration["Url"], UriKind.Absolute, out var url) || url.Scheme is not ("http" or "https"))
        {
            throw new InvalidOperationException($"Plugins:{context.Name}:Url must be an absolute http or https URL.");
        }

        services.AddKeyedSingleton<IEndpointSink>(endpoint, new WebhookEndpointSink(url));
    }
}
