using System.Buffers;
using System.Text;
using Broker.Core.CloudToDevice;
using Broker.Core.Errors;
using Broker.Core.Storage;
using Broker.Protocols.Amqp.Codec;
using Broker.Protocols.Amqp.Server;

namespace Broker.Protocols.Amqp.IotHub;

/// <summary>
/// The <c>$cbs</c> node the client sends put-token requests to: the token (an amqp-value string) is checked for
/// its audience (a device or module, or the hub for a service policy) and the answer goes back on the <c>$cbs</c>
/// link the client receives on, with <c>status-code</c> as an int and the request's message-id as correlation-id.
/// </summary>
internal sealed class CbsRequestEndpoint(IotHubAmqpConnection connection) : IAmqpLinkEndpoint
{
    public void OnMessage(AmqpLink link, AmqpIncomingDelivery delivery, in ReadOnlySequence<byte> message)
    {
        byte[] bytes = message.ToArray();
        byte[] messageId = [];
        string? operation;
        string? audience;
        string? token = null;
        try
        {
            var layout = AmqpMessageLayout.Parse(bytes);
            if (layout.Properties.End.Value > 0)
            {
                messageId = AmqpProperties.Decode(bytes.AsSpan(layout.Properties)).MessageId.ToArray();
            }

            ReadOnlySpan<byte> properties = TwinRequestEndpoint.Section(bytes, layout.ApplicationProperties);
            operation = IotHubAmqpMessages.GetText(properties, "operation"u8);
            audience = IotHubAmqpMessages.GetText(properties, "name"u8);
            var reader = new AmqpMessageReader(bytes);
            while (reader.TryReadSection(out AmqpSection section))
            {
                if (section.Kind == AmqpSectionKind.AmqpValue && !AmqpMap.GetText(section.Value).IsEmpty)
                {
                    token = Encoding.UTF8.GetString(AmqpMap.GetText(section.Value));
                }
            }
        }
        catch (AmqpDecodeException ex)
        {
            link.Settle(delivery, AmqpOutcome.Rejected("amqp:decode-error", ex.Message));

            return;
        }

        link.Settle(delivery, AmqpOutcome.Accepted);

        _ = PutTokenAsync(messageId, operation, audience, token);
    }

    private async Task PutTokenAsync(byte[] messageId, string? operation, string? audience, string? token)
    {
        (int status, string description) = !string.Equals(operation, "put-token", StringComparison.OrdinalIgnoreCase)
            ? (400, $"Unsupported operation '{operation}'.")
            : token is null || audience is null
                ? (400, "A put-token request needs a name (the audience) and a token.")
                : await connection.Hub.PutTokenAsync(connection, audience, token).ConfigureAwait(false);
        var output = new ArrayBufferWriter<byte>(256);
        IotHubAmqpMessages.WriteCbsReply(output, messageId, status, description);
        connection.CbsReplies?.Send(output.WrittenSpan);
    }
}

/// <summary>The <c>$cbs</c> link the client receives put-token answers on.</summary>
internal sealed class CbsReplyEndpoint(IotHubAmqpConnection connection, AmqpOutgoing outgoing) : IAmqpLinkEndpoint
{
    public void OnCredit(AmqpLink link) => outgoing.Flush();

    public void OnDetached(AmqpLink link)
    {
        if (connection.CbsReplies == outgoing)
        {
            connection.CbsReplies = null;
        }
    }
}

/// <summary>What every service link does as it detaches: leave the service grant.</summary>
internal abstract class ServiceLinkEndpoint(IotHubAmqpConnection connection) : IAmqpLinkEndpoint
{
    protected IotHubAmqpConnection Connection { get; } = connection;

    public virtual void OnDetached(AmqpLink link) => Connection.RemoveLink(IotHubAmqpConnection.ServiceIdentity, link);
}

/// <summary>
/// <c>/messages/deviceBound</c> (the service sends): each message's <c>to</c> names the device; the message is queued
/// with the hub's cloud-to-device service and accepted once durable, or rejected with the hub's error.
/// </summary>
internal sealed class ServiceCloudToDeviceEndpoint(IotHubAmqpConnection connection) : ServiceLinkEndpoint(connection), IAmqpLinkEndpoint
{
    public void OnMessage(AmqpLink link, AmqpIncomingDelivery delivery, in ReadOnlySequence<byte> message)
    {
        byte[] bytes = message.ToArray();
        string deviceId;
        CloudToDeviceRequest request;
        try
        {
            var layout = AmqpMessageLayout.Parse(bytes);
            if (layout.Properties.End.Value == 0)
            {
                link.Settle(delivery, AmqpOutcome.Rejected("com.microsoft:argument-error", "The message has no properties (to)."));
                return;
            }

            var properties = AmqpProperties.Decode(bytes.AsSpan(layout.Properties));
            string to = Encoding.UTF8.GetString(properties.To);
            if (!IotHubLinkAddress.TryParseCloudToDeviceTarget(to, out deviceId, out string? moduleId) || moduleId is not null)
            {
                link.Settle(delivery, AmqpOutcome.Rejected("com.microsoft:argument-error", $"'to' must be /devices/{{id}}/messages/deviceBound, not '{to}'."));
                return;
            }

            var applicationProperties = new Dictionary<string, string?>(StringComparer.Ordinal);
            FeedbackMode ack = FeedbackMode.None;
            Span<byte> scratch = stackalloc byte[64];
            foreach (AmqpMapEntry entry in AmqpMap.Enumerate(TwinRequestEndpoint.Section(bytes, layout.ApplicationProperties)))
            {
                string name = Encoding.UTF8.GetString(entry.KeyText);
                string? value = IotHubAmqpMessages.TryFormatValue(entry.Value, scratch, out int written, out ReadOnlySpan<byte> text)
                    ? Encoding.UTF8.GetString(text.IsEmpty && written > 0 ? scratch[..written] : text)
                    : null;
                if (name.Equals("iothub-ack", StringComparison.OrdinalIgnoreCase))
                {
                    if (IotHubAmqpMessages.ParseAck(value) is not { } parsed)
                    {
                        link.Settle(delivery, AmqpOutcome.Rejected("com.microsoft:argument-error", $"iothub-ack '{value}' is not none, positive, negative or full."));
                        return;
                    }

                    ack = parsed;
                    continue;
                }

                applicationProperties[name] = value;
            }

            var messageId = AmqpMessageId.From(properties.MessageId);
            var correlationId = AmqpMessageId.From(properties.CorrelationId);
            TimeSpan? ttl = properties.AbsoluteExpiryTime is { } expiry
                ? DateTimeOffset.FromUnixTimeMilliseconds(expiry) - Connection.Hub.Time.GetUtcNow()
                : null;
            request = new CloudToDeviceRequest
            {
                Body = TwinRequestEndpoint.BodyOf(bytes, layout),
                MessageId = messageId.Kind == AmqpMessageIdKind.None ? null : messageId.ToString(),
                CorrelationId = correlationId.Kind == AmqpMessageIdKind.None ? null : correlationId.ToString(),
                UserId = properties.UserId.IsEmpty ? null : Encoding.UTF8.GetString(properties.UserId),
                ContentType = properties.ContentType.IsEmpty ? null : Encoding.UTF8.GetString(properties.ContentType),
                ContentEncoding = properties.ContentEncoding.IsEmpty ? null : Encoding.UTF8.GetString(properties.ContentEncoding),
                Ack = ack,
                TimeToLive = ttl is { } t && t < TimeSpan.FromSeconds(1) ? TimeSpan.FromSeconds(1) : ttl,
                Properties = applicationProperties,
            };
        }
        catch (AmqpDecodeException ex)
        {
            link.Settle(delivery, AmqpOutcome.Rejected("amqp:decode-error", ex.Message));
            return;
        }

        _ = SendAsync(link, delivery, deviceId, request);
    }

    private async Task SendAsync(AmqpLink link, AmqpIncomingDelivery delivery, string deviceId, CloudToDeviceRequest request)
    {
        AmqpOutcome outcome;
        try
        {
            await Connection.Hub.CloudToDevice.SendAsync(deviceId, request).ConfigureAwait(false);
            outcome = AmqpOutcome.Accepted;
        }
        catch (IotHubException ex)
        {
            outcome = AmqpOutcome.Rejected(ConditionOf(ex.Code), $"{ex.Number}: {ex.Message}");
        }
        catch (StorageException ex)
        {
            IotHubAmqpLog.StorageFailed(Connection.Hub.Logger, ex, deviceId);
            outcome = AmqpOutcome.Rejected("amqp:internal-error", "The message could not be stored.");
        }

        link.Settle(delivery, outcome);
    }

    /// <summary>The AMQP condition the service SDKs map back to the hub's error.</summary>
    public static string ConditionOf(IotHubErrorCode code) => code switch
    {
        IotHubErrorCode.DeviceNotFound or IotHubErrorCode.ModuleNotFound => "amqp:not-found",
        IotHubErrorCode.DeviceMaximumQueueDepthExceeded or IotHubErrorCode.IotHubQuotaExceeded => "amqp:resource-limit-exceeded",
        IotHubErrorCode.MessageTooLarge => "amqp:link:message-size-exceeded",
        IotHubErrorCode.DeviceMessageLockLost => "com.microsoft:message-lock-lost",
        IotHubErrorCode.ArgumentInvalid or IotHubErrorCode.ArgumentNull => "com.microsoft:argument-error",
        IotHubErrorCode.IotHubUnauthorizedAccess or IotHubErrorCode.IotHubUnauthorized => "amqp:unauthorized-access",
        IotHubErrorCode.ThrottlingException or IotHubErrorCode.ThrottleBacklogLimitExceeded => "com.microsoft:device-container-throttled",
        _ => "amqp:internal-error",
    };
}

/// <summary>
/// <c>/messages/serviceBound/feedback</c> (the service receives): feedback batches, one message each (delivery tag =
/// the batch's lock token); accepted completes the batch, any other outcome abandons it.
/// </summary>
internal sealed class FeedbackEndpoint : ServiceLinkEndpoint, IAmqpLinkEndpoint
{
    private readonly AmqpLink _link;
    private readonly FeedbackQueue _feedback;
    private readonly string _hubName;
    private readonly Lock _lock = new();
    private readonly Dictionary<uint, Guid> _inFlight = [];
    private readonly SemaphoreSlim _credit = new(0);
    private readonly CancellationTokenSource _stop = new();

    public FeedbackEndpoint(AmqpLink link, IotHubAmqpConnection connection) : base(connection)
    {
        _link = link;
        _feedback = connection.Hub.Feedback;
        _hubName = connection.Hub.HubName;
    }

    public void Start() => _ = RunAsync();

    public void OnCredit(AmqpLink link)
    {
        if (_credit.CurrentCount == 0)
        {
            _credit.Release();
        }
    }

    private async Task RunAsync()
    {
        var output = new ArrayBufferWriter<byte>(1024);
        var tag = new byte[16];
        try
        {
            while (true)
            {
                while (_link.Credit == 0)
                {
                    await _credit.WaitAsync(_stop.Token).ConfigureAwait(false);
                }

                var batch = await _feedback.ReceiveAsync(_stop.Token).ConfigureAwait(false);
                output.ResetWrittenCount();
                IotHubAmqpMessages.WriteFeedback(output, batch, _hubName);
                batch.LockToken.TryWriteBytes(tag);
                lock (_lock)
                {
                    if (_link.TrySend(output.WrittenSpan, tag, out uint deliveryId))
                    {
                        _inFlight[deliveryId] = batch.LockToken;
                        continue;
                    }
                }

                Abandon(batch.LockToken);
                if (!_link.IsAttached)
                {
                    return;
                }
            }
        }
        catch (Exception ex) when (ex is OperationCanceledException or ObjectDisposedException)
        {
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

        if (outcome.Kind == AmqpDeliveryStateKind.Accepted)
        {
            _ = CompleteAsync(lockToken);
        }
        else
        {
            Abandon(lockToken);
        }
    }

    private async Task CompleteAsync(Guid lockToken)
    {
        try
        {
            await _feedback.CompleteAsync(lockToken).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is IotHubException or StorageException or ObjectDisposedException)
        {
            IotHubAmqpLog.FeedbackFailed(Connection.Hub.Logger, ex.Message);
        }
    }

    private void Abandon(Guid lockToken)
    {
        try
        {
            _feedback.Abandon(lockToken);
        }
        catch (Exception ex) when (ex is IotHubException or ObjectDisposedException)
        {
            IotHubAmqpLog.FeedbackFailed(Connection.Hub.Logger, ex.Message);
        }
    }

    public override void OnDetached(AmqpLink link)
    {
        List<Guid> pending;
        lock (_lock)
        {
            pending = [.. _inFlight.Values];
            _inFlight.Clear();
        }

        _stop.Cancel();
        foreach (var lockToken in pending)
        {
            Abandon(lockToken);
        }

        base.OnDetached(link);
    }
}
