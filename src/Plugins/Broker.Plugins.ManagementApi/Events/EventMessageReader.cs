using System.Globalization;
using System.Text;
using Broker.Core.Security;
using Broker.Core.Storage;
using Broker.Core.Telemetry;
using Broker.Management.V1;
using Google.Protobuf;

namespace Broker.Management.Events;

/// <summary>
/// Turns stored telemetry events into <see cref="EventMessage"/>s as the events endpoint presents them, skipping
/// events before <see cref="MinOffset"/> and, with a device filter, other devices' events.
/// </summary>
internal sealed class EventMessageReader(int partition, long minOffset, string? deviceId) : ITelemetryVisitor
{
    private readonly byte[]? _deviceId = string.IsNullOrEmpty(deviceId) ? null : Encoding.UTF8.GetBytes(deviceId);

    /// <summary>Events below this offset are skipped (already processed, or enqueued before the read began).</summary>
    public long MinOffset { get; } = minOffset;

    /// <summary>The messages of the last <see cref="ITelemetryReader.Read"/>.</summary>
    public List<EventMessage> Messages { get; } = [];

    public bool Visit(in TelemetryEvent telemetryEvent)
    {
        if (telemetryEvent.Offset < MinOffset
            || !TelemetryEventCodec.TryRead(telemetryEvent.Body, out var view)
            || (_deviceId is not null && !view.DeviceId.SequenceEqual(_deviceId)))
        {
            return true;
        }

        Messages.Add(ToMessage(partition, telemetryEvent, view));
        return true;
    }

    /// <summary>One event with its system properties as IoT Hub stamps them on the built-in endpoint.</summary>
    public static EventMessage ToMessage(int partition, in TelemetryEvent telemetryEvent, in TelemetryEventView view)
    {
        var deviceId = Encoding.UTF8.GetString(view.DeviceId);
        var moduleId = Encoding.UTF8.GetString(view.ModuleId);
        var generationId = Encoding.UTF8.GetString(view.GenerationId);
        var enqueued = telemetryEvent.EnqueuedTime.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.fffffff'Z'", CultureInfo.InvariantCulture);
        var message = new EventMessage
        {
            Partition = partition,
            Offset = telemetryEvent.Offset,
            SequenceNumber = telemetryEvent.SequenceNumber,
            EnqueuedTime = enqueued,
            DeviceId = deviceId,
            ModuleId = moduleId,
            Body = ByteString.CopyFrom(view.Payload),
        };

        foreach (var property in MessagePropertyBag.Parse(view.PropertyBag))
        {
            var value = property.Value ?? "";
            if (!property.IsSystem)
            {
                message.Properties[property.Name] = value;
                continue;
            }

            var name = MessagePropertyBag.SystemPropertyName(property.Name) ?? property.Name;
            message.SystemProperties[name] = value;
            switch (name)
            {
                case "message-id":
                    message.MessageId = value;
                    break;
                case "correlation-id":
                    message.CorrelationId = value;
                    break;
                case "content-type":
                    message.ContentType = value;
                    break;
                case "content-encoding":
                    message.ContentEncoding = value;
                    break;
            }
        }

        // Stamped by the hub last, so a device cannot spoof them (anti-spoofing, spec §5).
        var system = message.SystemProperties;
        system["iothub-connection-device-id"] = deviceId;
        if (moduleId.Length > 0)
        {
            system["iothub-connection-module-id"] = moduleId;
        }

        system["iothub-connection-auth-method"] = AuthMethodJson(view.AuthMethod, moduleId.Length > 0);
        if (generationId.Length > 0)
        {
            system["iothub-connection-auth-generation-id"] = generationId;
        }

        system["iothub-enqueuedtime"] = enqueued;
        system["iothub-message-source"] = "Telemetry";
        return message;
    }

    /// <summary>IoT Hub's <c>iothub-connection-auth-method</c>: <c>{"scope":"device","type":"sas","issuer":"iothub"}</c>.</summary>
    public static string AuthMethodJson(AuthMethod method, bool module)
    {
        var scope = method == AuthMethod.PolicyKey ? "hub" : module ? "module" : "device";
        var type = method switch
        {
            AuthMethod.IdentityKey or AuthMethod.PolicyKey => "sas",
            AuthMethod.X509SelfSigned => "x509",
            _ => "none",
        };
        return $$"""{"scope":"{{scope}}","type":"{{type}}","issuer":"iothub"}""";
    }
}
