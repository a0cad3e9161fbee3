using System.Buffers;
using System.Globalization;
using System.Text;
using System.Text.Json;
using Broker.Core.Storage;
using Broker.Core.Telemetry;
using Broker.Plugins.Routing;

namespace Broker.Core.Routing;

/// <summary>
/// Reads events from one partition's log for one endpoint: decodes each, asks the router whether a route sends it to
/// the endpoint, and keeps the ones that go (their bodies copied: the log's buffers are only valid during the visit).
/// </summary>
internal sealed class RoutedBatchCollector(string endpoint, MessageRouter router) : ITelemetryVisitor
{
    private readonly bool _needsDocument = router.NeedsDocument(endpoint);
    private readonly ArrayBufferWriter<byte> _document = new(1024);

    public List<RoutedMessage> Batch { get; } = [];

    public bool Visit(in TelemetryEvent telemetryEvent)
    {
        if (!TelemetryEventCodec.TryRead(telemetryEvent.Body, out var view))
        {
            return true; // not telemetry this hub wrote: nothing to route
        }

        var properties = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
        var system = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var property in MessagePropertyBag.Parse(view.PropertyBag))
        {
            if (property.IsSystem)
            {
                system[MessagePropertyBag.SystemPropertyName(property.Name) ?? property.Name] = property.Value ?? "";
            }
            else
            {
                properties[property.Name] = property.Value ?? "";
            }
        }

        string deviceId = Encoding.UTF8.GetString(view.DeviceId);
        string? moduleId = view.ModuleId.IsEmpty ? null : Encoding.UTF8.GetString(view.ModuleId);
        string generationId = Encoding.UTF8.GetString(view.GenerationId);
        system["iothub-connection-device-id"] = deviceId;
        if (moduleId is not null)
        {
            system["iothub-connection-module-id"] = moduleId;
        }

        if (generationId.Length > 0)
        {
            system["iothub-connection-auth-generation-id"] = generationId;
        }

        system["iothub-enqueuedtime"] = telemetryEvent.EnqueuedTime.UtcDateTime.ToString("O", CultureInfo.InvariantCulture);
        system["iothub-message-source"] = "Telemetry";

        bool routed;
        if (_needsDocument)
        {
            using var document = BuildDocument(properties, system, view.Payload);
            routed = router.Matches(endpoint, document.RootElement);
        }
        else
        {
            routed = router.Matches(endpoint, null);
        }

        if (routed)
        {
            Batch.Add(new RoutedMessage
            {
                DeviceId = deviceId,
                ModuleId = moduleId,
                EnqueuedTime = telemetryEvent.EnqueuedTime,
                SequenceNumber = telemetryEvent.SequenceNumber,
                Properties = properties,
                SystemProperties = system,
                Body = view.Payload.ToArray(),
            });
        }

        return true;
    }

    // The message as a routing query sees it: application properties by name, system properties as $name, and the
    // body as $body when it is JSON in UTF-8 (IoT Hub routes on the body only then).
    private JsonDocument BuildDocument(Dictionary<string, string> properties, Dictionary<string, string> system, ReadOnlySpan<byte> payload)
    {
        _document.ResetWrittenCount();
        using (var writer = new Utf8JsonWriter(_document))
        {
            writer.WriteStartObject();
            foreach (var (name, value) in properties)
            {
                writer.WriteString(name, value);
            }

            WriteSystem(writer, system, "message-id", "$messageId");
            WriteSystem(writer, system, "correlation-id", "$correlationId");
            WriteSystem(writer, system, "content-type", "$contentType");
            WriteSystem(writer, system, "content-encoding", "$contentEncoding");
            WriteSystem(writer, system, "user-id", "$userId");
            WriteSystem(writer, system, "iothub-connection-device-id", "$connectionDeviceId");
            WriteSystem(writer, system, "iothub-connection-module-id", "$connectionModuleId");
            WriteSystem(writer, system, "iothub-connection-auth-generation-id", "$connectionDeviceGenerationId");
            WriteSystem(writer, system, "iothub-enqueuedtime", "$enqueuedTime");
            if (IsJsonUtf8(system) && JsonText.IsSingleValue(payload))
            {
                writer.WritePropertyName("$body");
                writer.WriteRawValue(payload, skipInputValidation: true);
            }

            writer.WriteEndObject();
        }

        return JsonDocument.Parse(_document.WrittenMemory);
    }

    private static void WriteSystem(Utf8JsonWriter writer, Dictionary<string, string> system, string name, string queryName)
    {
        if (system.TryGetValue(name, out var value))
        {
            writer.WriteString(queryName, value);
        }
    }

    private static bool IsJsonUtf8(Dictionary<string, string> system)
        => system.TryGetValue("content-type", out var type)
            && type.StartsWith("application/json", StringComparison.OrdinalIgnoreCase)
            && ((system.TryGetValue("content-encoding", out var encoding) && string.Equals(encoding, "utf-8", StringComparison.OrdinalIgnoreCase))
                || type.Contains("charset=utf-8", StringComparison.OrdinalIgnoreCase));
}
