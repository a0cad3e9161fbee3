using System.Runtime.Loader;
using System.Text;
using Broker.Plugins.Routing;
using Newtonsoft.Json;

namespace Broker.TestPlugins.JsonSink;

/// <summary>Appends each batch as one JSON line, with the Newtonsoft.Json version and load context that wrote it.</summary>
public sealed class JsonFileSink(string name, string path) : IEndpointSink
{
    public async ValueTask WriteAsync(IReadOnlyList<RoutedMessage> batch, CancellationToken cancellationToken)
    {
        var json = typeof(JsonConvert).Assembly;
        string line = JsonConvert.SerializeObject(new
        {
            plugin = name,
            newtonsoftVersion = json.GetName().Version?.ToString(),
            newtonsoftLoadContext = AssemblyLoadContext.GetLoadContext(json)?.Name,
            messages = batch.Select(message => new
            {
                deviceId = message.DeviceId,
                properties = message.Properties,
                body = Encoding.UTF8.GetString(message.Body.Span),
            }),
        });
        await File.AppendAllTextAsync(path, line + "\n", cancellationToken).ConfigureAwait(false);
    }
}
