using System.Buffers;
using System.Text;
using Broker.Core.CloudToDevice;
using Broker.Core.Errors;
using Broker.Core.Storage;
using Broker.Core.Telemetry;
using Broker.Protocols.Amqp.Codec;
using Broker.Protocols.Amqp.Server;

namespace Broker.Protocols.Amqp.IotHub;

/// <summary>What every device link does as it detaches: leave its identity's grant and proxy.</summary>
internal abstract class DeviceLinkEndpoint(AmqpDeviceProxy proxy, IotHubAmqpConnection connection) : IAmqpLinkEndpoint
{
    protected AmqpDeviceProxy Proxy { get; } = proxy;

    protected IotHubAmqpConnection Connection { get; } = connection;

    public virtual void OnDetached(AmqpLink link)
    {
        Connection.RemoveLink(Proxy.Context.IdentityKey, link);
        Proxy.RemoveLink(link);
    }
}

/// <summary>A link the hub sends on for a device (twin replies, method requests): sends what waited for credit.</summary>
internal sealed class DeviceSenderEndpoint(AmqpDeviceProxy proxy, IotHubAmqpConnection connection, AmqpOutgoing outgoing) : DeviceLinkEndpoint(proxy, connection), IAmqpLinkEndpoint
{
    public AmqpOutgoing Outgoing { get; } = outgoing;

    public void OnCredit(AmqpLink link) => Outgoing.Flush();
}

/// <summary>
/// <c>/devices/{id}/messages/events</c>: each message (each inner message of a batch, format 0x80013700) becomes one
/// event in the device's partition, stored exactly as MQTT stores it (identity, URL-encoded property bag, payload).
/// The delivery is accepted once the append is durable. When the partition has no room the link's credit is not
/// topped up, so the device waits, and what it already sent under its credit waits here.
/// </summary>
internal sealed class TelemetryEndpoint : DeviceLinkEndpoint, IAmqpLinkEndpoint, IDurabilityCallback
{
    /// <summary>IoT Hub's largest device-to-cloud message.</summary>
    public const int MaxMessageBytes = 256 * 1024;

    private readonly AmqpLink _link;
    private readonly IPartitionStore _partition;
    private readonly byte[] _identity;
    private readonly uint _credit;
    private readonly Lock _lock = new();
    private readonly ArrayBufferWriter<byte> _event = new(4096);
    private readonly ArrayBufferWriter<byte> _bag = new(512);
    private readonly Queue<Waiting> _waiting = new();
    private byte[] _copy = [];
    private bool _draining;

    public TelemetryEndpoint(AmqpLink link, AmqpDeviceProxy proxy, IotHubAmqpConnection connection, uint credit)
        : base(proxy, connection)
    {
        _link = link;
        _credit = credit;
        _partition = proxy.Hub.Store.GetPartitionFor(proxy.Context.DeviceId);
        _identity = TelemetryEventCodec.EncodeIdentity(proxy.Context);
    }

    public void OnMessage(AmqpLink link, AmqpIncomingDelivery delivery, in ReadOnlySequence<byte> message)
    {
        ReadOnlySequence<byte> whole = message;
        if (!message.IsSingleSegment)
        {
            if (_copy.Length < message.Length)
            {
                _copy = new byte[Math.Max((int)message.Length, 2 * _copy.Length)];
            }

            message.CopyTo(_copy);
            whole = new ReadOnlySequence<byte>(_copy, 0, (int)message.Length);
        }

        lock (_lock)
        {
            string? error;
            try
            {
                error = delivery.MessageFormat == AmqpMessageFormat.Batch ? AppendBatch(whole, delivery) : Append(whole, 0, (int)whole.Length, delivery, last: true);
            }
            catch (AmqpDecodeException ex)
            {
                error = null;
                _link.Settle(delivery, AmqpOutcome.Rejected("amqp:decode-error", ex.Message));
            }
            catch (StorageException ex)
            {
                error = null;
                IotHubAmqpLog.StorageFailed(Proxy.Hub.Logger, ex, Proxy.Context.IdentityKey);
                _link.Settle(delivery, AmqpOutcome.Rejected("amqp:internal-error", "The message could not be stored."));
            }

            if (error is not null)
            {
                _link.Settle(delivery, AmqpOutcome.Rejected("amqp:link:message-size-exceeded", error));
            }
        }
    }

    private string? AppendBatch(in ReadOnlySequence<byte> whole, AmqpIncomingDelivery delivery)
    {
        ReadOnlySpan<byte> span = whole.FirstSpan;
        var layout = AmqpMessageLayout.Parse(span);
        if (layout.BodyKind != AmqpSectionKind.Data)
        {
            return Append(whole, 0, span.Length, delivery, last: true);
        }

        // Count the data sections first, so that only the last inner message waits for durability.
        int count = 0;
        var reader = new AmqpMessageReader(span);
        while (reader.TryReadSection(out AmqpSection section))
        {
            if (section.Kind == AmqpSectionKind.Data)
            {
                count++;
            }
        }

        int index = 0;
        reader = new AmqpMessageReader(span);
        while (reader.TryReadSection(out AmqpSection section))
        {
            if (section.Kind != AmqpSectionKind.Data)
            {
                continue;
            }

            int start = section.Offset + section.Encoded.Length - section.Data.Length;
            if (Append(whole, start, section.Data.Length, delivery, last: ++index == count) is { } error)
            {
                return error;
            }
        }

        return null;
    }

    // Encodes the message at [start, start+length) of the delivery as one event and appends it.
    private string? Append(in ReadOnlySequence<byte> whole, int start, int length, AmqpIncomingDelivery delivery, bool last)
    {
        ReadOnlySpan<byte> message = whole.FirstSpan.Slice(start, length);
        var layout = AmqpMessageLayout.Parse(message);
        _bag.ResetWrittenCount();
        PropertyBagWriter.Write(_bag, message, layout);
        ReadOnlySequence<byte> payload;
        if (layout.BodySectionCount == 1 && layout.BodyKind == AmqpSectionKind.Data)
        {
            (int offset, int size) = layout.FirstData.GetOffsetAndLength(length);
            payload = whole.Slice(start + offset, size);
        }
        else
        {
            (int offset, int size) = layout.Body.GetOffsetAndLength(length);
            payload = whole.Slice(start + offset, size);
        }

        if (payload.Length + _bag.WrittenCount > MaxMessageBytes)
        {
            return $"The message exceeds {MaxMessageBytes} bytes.";
        }

        _event.ResetWrittenCount();
        TelemetryEventCodec.Write(_event, _identity, _bag.WrittenSpan, payload);
        bool acknowledge = last && !delivery.Settled;
        if (_waiting.Count > 0 || !_partition.Events.HasRoomFor(_event.WrittenCount))
        {
            // Back-pressure: stop topping up the credit; what the device sent under its credit waits here.
            _link.AutoCredit = false;
            _waiting.Enqueue(new Waiting(_event.WrittenSpan.ToArray(), acknowledge, delivery.DeliveryId));
            if (!_draining)
            {
                _draining = true;
                _ = DrainAsync();
            }

            return null;
        }

        if (acknowledge)
        {
            _partition.Events.Append(_event.WrittenSpan, this, delivery.DeliveryId);
        }
        else
        {
            _partition.Events.Append(_event.WrittenSpan);
        }

        return null;
    }

    private async Task DrainAsync()
    {
        try
        {
            while (true)
            {
                int length;
                lock (_lock)
                {
                    if (_waiting.Count == 0)
                    {
                        _draining = false;
                        _link.AutoCredit = true;
                        if (_link.IsAttached)
                        {
                            _link.GrantCredit(_credit);
                        }

                        return;
                    }

                    length = _waiting.Peek().Event.Length;
                }

                await _partition.Events.WaitForRoomAsync(length).ConfigureAwait(false);
                lock (_lock)
                {
                    var next = _waiting.Dequeue();
                    if (next.Acknowledge)
                    {
                        _partition.Events.Append(next.Event, this, next.DeliveryId);
                    }
                    else
                    {
                        _partition.Events.Append(next.Event);
                    }
                }
            }
        }
        catch (Exception ex) when (ex is StorageException or ObjectDisposedException or OperationCanceledException)
        {
            IotHubAmqpLog.StorageFailed(Proxy.Hub.Logger, ex, Proxy.Context.IdentityKey);
            _link.Detach("amqp:internal-error", "The messages could not be stored.");
        }
    }

    public void OnDurable(long token) => _link.Settle((uint)token, AmqpOutcome.Accepted);

    public void OnFailed(long token, Exception error) => _link.Settle((uint)token, AmqpOutcome.Rejected("amqp:internal-error", "The message could not be stored."));

    private readonly record struct Waiting(byte[] Event, bool Acknowledge, uint DeliveryId);
}

/// <summary>
/// <c>/devices/{id}/messages/deviceBound</c>: locks and sends queued cloud-to-device messages while the device gives
/// credit (delivery tag = the 16-byte lock token); accepted completes, released/modified abandons, rejected rejects.
/// Locks still held when the link goes return to the queue.
/// </summary>
internal sealed class CloudToDeviceEndpoint : DeviceLinkEndpoint, IAmqpLinkEndpoint
{
    private const int MaxInFlight = 16;

    private readonly Lock _lock = new();
    private readonly Dictionary<uint, Guid> _inFlight = [];
    private readonly ArrayBufferWriter<byte> _buffer = new(1024);
    private bool _closed;

    public CloudToDeviceEndpoint(AmqpLink link, AmqpDeviceProxy proxy, IotHubAmqpConnection connection)
        : base(proxy, connection) => Link = link;

    public AmqpLink Link { get; }

    private CloudToDeviceService Queues => Proxy.Hub.CloudToDevice;

    public void OnCredit(AmqpLink link) => Pump();

    public void Pump()
    {
        lock (_lock)
        {
            Span<byte> tag = stackalloc byte[16];
            while (!_closed && Link.IsAttached && Link.Credit > 0 && _inFlight.Count < MaxInFlight
                && Queues.TryLockNext(Proxy.Context.DeviceId, this, out var delivery))
            {
                _buffer.ResetWrittenCount();
                IotHubAmqpMessages.WriteCloudToDevice(_buffer, delivery.Message, delivery.LockToken);
                delivery.LockToken.TryWriteBytes(tag);
                if (!Link.TrySend(_buffer.WrittenSpan, tag, out uint deliveryId))
                {
                    Queues.Release(Proxy.Context.DeviceId, delivery.LockToken);
                    return;
                }

                _inFlight[deliveryId] = delivery.LockToken;
            }
        }
    }

    public void OnOutcome(AmqpLink link, uint deliveryId, AmqpOutcome outcome)
    {
        Guid lockToken;
        lock (_lock)
        {
            if (!_inFlight.Remove(deliveryId, out lockToken))
            {
                return;
            }
        }

        _ = SettleAsync(lockToken, outcome);
    }

    private async Task SettleAsync(Guid lockToken, AmqpOutcome outcome)
    {
        string deviceId = Proxy.Context.DeviceId;
        try
        {
            switch (outcome.Kind)
            {
                case AmqpDeliveryStateKind.Accepted:
                    await Queues.CompleteAsync(deviceId, lockToken).ConfigureAwait(false);
                    break;
                case AmqpDeliveryStateKind.Rejected:
                    await Queues.RejectAsync(deviceId, lockToken).ConfigureAwait(false);
                    break;
                default:
                    await Queues.AbandonAsync(deviceId, lockToken).ConfigureAwait(false);
                    break;
            }
        }
        catch (Exception ex) when (ex is IotHubException or StorageException)
        {
            IotHubAmqpLog.SettleFailed(Proxy.Hub.Logger, Proxy.Context.IdentityKey, ex.Message);
        }

        Pump();
    }

    public override void OnDetached(AmqpLink link)
    {
        lock (_lock)
        {
            _closed = true;
            _inFlight.Clear();
        }

        Queues.ReleaseLocks(Proxy.Context.DeviceId, this);
        base.OnDetached(link);
    }
}

/// <summary>
/// The twin link the device sends on (<c>/devices/{id}/twin</c>): GET, PATCH of reported properties, PUT/DELETE of
/// the desired-properties subscription, each answered on the twin link the device receives on with the request's
/// correlation-id (its AMQP type kept) and a <c>status</c> annotation.
/// </summary>
internal sealed class TwinRequestEndpoint(AmqpDeviceProxy proxy, IotHubAmqpConnection connection, string? channel) : DeviceLinkEndpoint(proxy, connection), IAmqpLinkEndpoint
{
    public void OnMessage(AmqpLink link, AmqpIncomingDelivery delivery, in ReadOnlySequence<byte> message)
    {
        byte[] bytes = message.ToArray();
        string? operation;
        string? resource;
        byte[] correlationId;
        ReadOnlyMemory<byte> body;
        try
        {
            var layout = AmqpMessageLayout.Parse(bytes);
            ReadOnlySpan<byte> annotations = Section(bytes, layout.MessageAnnotations);
            operation = IotHubAmqpMessages.GetText(annotations, "operation"u8);
            resource = IotHubAmqpMessages.GetText(annotations, "resource"u8);
            correlationId = layout.Properties.End.Value > 0 ? AmqpProperties.Decode(bytes.AsSpan(layout.Properties)).CorrelationId.ToArray() : [];
            body = BodyOf(bytes, layout);
        }
        catch (AmqpDecodeException ex)
        {
            link.Settle(delivery, AmqpOutcome.Rejected("amqp:decode-error", ex.Message));

            return;
        }

        link.Settle(delivery, AmqpOutcome.Accepted);

        switch (operation?.ToUpperInvariant())
        {
            case "GET":
                try
                {
                    Proxy.SendTwinReply(channel, correlationId, 200, null, Proxy.Hub.Twins.GetDeviceView(Proxy.Context.DeviceId, Proxy.Context.ModuleId));
                }
                catch (IotHubException ex)
                {
                    Proxy.SendTwinReply(channel, correlationId, ex.HttpStatus, null, ErrorBody(ex));
                }

                break;
            case "PATCH":
                _ = PatchAsync(correlationId, body);
                break;
            case "PUT" or "DELETE" when resource is not null && resource.TrimEnd('/').Equals("/notifications/twin/properties/desired", StringComparison.OrdinalIgnoreCase):
                Proxy.SetDesiredSubscription(operation.Equals("PUT", StringComparison.OrdinalIgnoreCase));
                Proxy.SendTwinReply(channel, correlationId, 200, null, default);
                break;
            default:
                Proxy.SendTwinReply(channel, correlationId, 400, null, Encoding.UTF8.GetBytes($"{{\"errorCode\":400004,\"message\":\"Unsupported twin operation {operation} {resource}.\"}}"));
                break;
        }
    }

    private async Task PatchAsync(byte[] correlationId, ReadOnlyMemory<byte> patch)
    {
        try
        {
            long version = await Proxy.Hub.Twins.UpdateReportedAsync(Proxy.Context.DeviceId, Proxy.Context.ModuleId, patch).ConfigureAwait(false);
            Proxy.SendTwinReply(channel, correlationId, 204, version, default);
        }
        catch (IotHubException ex)
        {
            Proxy.SendTwinReply(channel, correlationId, ex.HttpStatus, null, ErrorBody(ex));
        }
        catch (StorageException ex)
        {
            IotHubAmqpLog.StorageFailed(Proxy.Hub.Logger, ex, Proxy.Context.IdentityKey);
            Proxy.SendTwinReply(channel, correlationId, 500, null, default);
        }
    }

    private static byte[] ErrorBody(IotHubException error)
    {
        var output = new ArrayBufferWriter<byte>(256);
        using (var json = new System.Text.Json.Utf8JsonWriter(output))
        {
            json.WriteStartObject();
            json.WriteNumber("errorCode", error.Number);
            json.WriteString("message", error.Message);
            json.WriteEndObject();
        }

        return output.WrittenSpan.ToArray();
    }

    /// <summary>The map of an annotations or application-properties section (its descriptor skipped), or empty.</summary>
    internal static ReadOnlySpan<byte> Section(byte[] bytes, Range range)
    {
        if (range.End.Value == 0)
        {
            return default;
        }

        var reader = new AmqpReader(bytes.AsSpan(range));
        reader.ReadDescriptor(out _);
        return reader.UnreadSpan;
    }

    /// <summary>The bytes of a message's body: its data sections, or an amqp-value's string or binary.</summary>
    internal static ReadOnlyMemory<byte> BodyOf(byte[] bytes, in AmqpMessageLayout layout)
    {
        if (layout.BodySectionCount == 0)
        {
            return default;
        }

        if (layout.BodyKind == AmqpSectionKind.Data && layout.BodySectionCount == 1)
        {
            return bytes.AsMemory(layout.FirstData);
        }

        var output = new ArrayBufferWriter<byte>();
        var reader = new AmqpMessageReader(bytes.AsSpan(layout.Body));
        while (reader.TryReadSection(out AmqpSection section))
        {
            if (section.Kind == AmqpSectionKind.Data)
            {
                output.Write(section.Data);
            }
            else if (section.Kind == AmqpSectionKind.AmqpValue)
            {
                var value = section.Value;
                if (!value.IsEmpty && value[0] is AmqpFormatCode.Binary8 or AmqpFormatCode.Binary32)
                {
                    output.Write(new AmqpReader(value).ReadBinary());
                }
                else
                {
                    output.Write(AmqpMap.GetText(value));
                }
            }
        }

        return output.WrittenMemory;
    }
}

/// <summary>The methods link the device sends on: responses (correlation-id, <c>IoThub-status</c>) to the method invoker.</summary>
internal sealed class MethodResponseEndpoint(AmqpDeviceProxy proxy, IotHubAmqpConnection connection) : DeviceLinkEndpoint(proxy, connection), IAmqpLinkEndpoint
{
    public void OnMessage(AmqpLink link, AmqpIncomingDelivery delivery, in ReadOnlySequence<byte> message)
    {
        byte[] bytes = message.ToArray();
        try
        {
            var layout = AmqpMessageLayout.Parse(bytes);
            string requestId = layout.Properties.End.Value > 0 ? IotHubAmqpMessages.MethodRequestId(AmqpMessageId.From(AmqpProperties.Decode(bytes.AsSpan(layout.Properties)).CorrelationId)) : string.Empty;
            ReadOnlySpan<byte> properties = TwinRequestEndpoint.Section(bytes, layout.ApplicationProperties);
            long? status = null;
            foreach (AmqpMapEntry entry in AmqpMap.Enumerate(properties))
            {
                if (Ascii.EqualsIgnoreCase(entry.KeyText, "IoThub-status"u8))
                {
                    status = IotHubAmqpMessages.GetInteger(entry.Value);
                }
            }

            var body = TwinRequestEndpoint.BodyOf(bytes, layout);
            if (status is null || body.Length > Core.Methods.MethodInvoker.MaxPayloadBytes)
            {
                link.Settle(delivery, AmqpOutcome.Rejected("com.microsoft:argument-error", "A method response needs an IoThub-status and at most 128 KB."));

                return;
            }

            if (!Proxy.Hub.Methods.Complete(Proxy.Context, requestId, (int)status.Value, body.Span))
            {
                IotHubAmqpLog.UnknownMethodResponse(Proxy.Hub.Logger, Proxy.Context.IdentityKey, requestId);
            }

            link.Settle(delivery, AmqpOutcome.Accepted);
        }
        catch (AmqpDecodeException ex)
        {
            link.Settle(delivery, AmqpOutcome.Rejected("amqp:decode-error", ex.Message));
        }
    }
}
