using System.Net.Http.Headers;
using System.Text.Json;
using Broker.Plugins.Routing;

namespace WebhookSink;

/// <summary>
/// POSTs a batch as <c>[{"deviceId","moduleId","enqueuedTime","sequenceNumber","properties","systemProperties","body"}]</c>
/// (the body base64). Anything but a 2xx answer throws, so the broker offers the batch again.
/// </summary>
public sealed class WebhookEndpointSink(Uri url) : IEndpointSink, IDisposable
{
    private readonly HttpClient _http = new() { Timeout = TimeSpan.FromSeconds(30) };

    /// <inheritdoc />
    public async ValueTask WriteAsync(IReadOnlyList<RoutedMessage> batch, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(batch);
        using var body = new MemoryStream();
        using (var writer = new Utf8JsonWriter(body))
        {
            writer.WriteStartArray();
            foreach (var message in batch)
            {
                writer.WriteStartObject();
                writer.WriteString("deviceId", message.DeviceId);
                if (message.ModuleId is not null)
                {
                    writer.WriteString("moduleId", message.ModuleId);
                }

                writer.WriteString("enqueuedTime", message.EnqueuedTime);
                writer.WriteNumber("sequenceNumber", message.SequenceNumber);
                WriteMap(writer, "properties", message.Properties);
                WriteMap(writer, "systemProperties", message.SystemProperties);
                writer.WriteBase64String("body", message.Body.Span);
                writer.WriteEndObject();
            }

            writer.WriteEndArray();
        }

        using var content = new ByteArrayContent(body.ToArray());
        content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
        using var response = await _http.PostAsync(url, content, cancellationToken).ConfigureAwait(false);
        response.EnsureSuccessStatusCode();
    }

    /// <inheritdoc />
    public void Dispose() => _http.Dispose();

    private static void WriteMap(Utf8JsonWriter writer, string name, IReadOnlyDictionary<string, string> map)
    {
        writer.WriteStartObject(name);
        foreach (var (key, value) in map)
        {
            writer.WriteString(key, value);
        }

        writer.WriteEndObject();
    }
}
