using System.Globalization;
using Broker.Core.CloudToDevice;
using Broker.Core.Errors;
using Broker.Core.Hub;
using Broker.Core.Registry;
using Broker.Core.Security;
using Broker.Management.V1;
using Google.Protobuf;
using Grpc.Core;
using Microsoft.Extensions.Options;

namespace Broker.Management.Server;

/// <summary>Sends cloud-to-device messages, purges queues and hands out feedback.</summary>
internal sealed class CloudToDeviceGrpcService(Core.CloudToDevice.CloudToDeviceService queues, FeedbackQueue feedback, IOptions<HubOptions> hub, CallAuthorizer authorizer)
    : V1.CloudToDeviceService.CloudToDeviceServiceBase
{
    private const string DeviceBoundPath = "messages/devicebound";
    private const string FeedbackPath = "messages/serviceBound/feedback";

    public override async Task<SendMessageReply> SendMessage(SendMessageRequest request, ServerCallContext context)
    {
        authorizer.Require(context, AccessRights.ServiceConnect, DeviceBoundPath);
        var message = await queues.SendAsync(request.DeviceId, new CloudToDeviceRequest
        {
            Body = request.Body.Memory,
            MessageId = NullIfEmpty(request.MessageId),
            CorrelationId = NullIfEmpty(request.CorrelationId),
            UserId = NullIfEmpty(request.UserId),
            ContentType = NullIfEmpty(request.ContentType),
            ContentEncoding = NullIfEmpty(request.ContentEncoding),
            Ack = ParseAck(request.Ack),
            TimeToLive = request.TtlSeconds switch
            {
                0 => null,
                < 0 => throw IotHubErrors.ArgumentInvalid("ttl_seconds must be positive."),
                _ => TimeSpan.FromSeconds(request.TtlSeconds),
            },
            Properties = request.Properties.ToDictionary(static pair => pair.Key, static pair => (string?)pair.Value, StringComparer.Ordinal),
        }, context.CancellationToken).ConfigureAwait(false);
        return new SendMessageReply
        {
            MessageId = message.MessageId ?? "",
            SequenceNumber = message.SequenceNumber,
            EnqueuedTimeUtc = Iso(message.EnqueuedTime),
            ExpiryTimeUtc = Iso(message.ExpiryTime),
        };
    }

    public override async Task<PurgeQueueReply> PurgeQueue(PurgeQueueRequest request, ServerCallContext context)
    {
        authorizer.Require(context, AccessRights.ServiceConnect, $"devices/{request.DeviceId}/commands");
        int purged = await queues.PurgeAsync(request.DeviceId, context.CancellationToken).ConfigureAwait(false);
        return new PurgeQueueReply { TotalMessagesPurged = purged, DeviceId = request.DeviceId };
    }

    public override async Task ReceiveFeedback(ReceiveFeedbackRequest request, IServerStreamWriter<FeedbackMessage> responseStream, ServerCallContext context)
    {
        authorizer.Require(context, AccessRights.ServiceConnect, FeedbackPath);
        await context.WriteResponseHeadersAsync([]).ConfigureAwait(false);
        try
        {
            while (true)
            {
                var batch = await feedback.ReceiveAsync(context.CancellationToken).ConfigureAwait(false);
                try
                {
                    await responseStream.WriteAsync(new FeedbackMessage
                    {
                        LockToken = batch.LockToken.ToString(),
                        EnqueuedTimeUtc = Iso(batch.EnqueuedTime),
                        ContentType = FeedbackBatch.ContentType,
                        UserId = hub.Value.HostName.Split('.')[0],
                        Body = ByteString.CopyFrom(batch.Body),
                    }, context.CancellationToken).ConfigureAwait(false);
                }
                catch (Exception) when (context.CancellationToken.IsCancellationRequested)
                {
                    feedback.Abandon(batch.LockToken); // never reached the caller: offer it again now, not after the lock
                    throw;
                }
            }
        }
        catch (OperationCanceledException) when (context.CancellationToken.IsCancellationRequested)
        {
            // The caller went away: the stream ends only this way.
        }
    }

    public override async Task<SettleFeedbackReply> CompleteFeedback(SettleFeedbackRequest request, ServerCallContext context)
    {
        authorizer.Require(context, AccessRights.ServiceConnect, FeedbackPath);
        await feedback.CompleteAsync(ParseLockToken(request.LockToken), context.CancellationToken).ConfigureAwait(false);
        return new SettleFeedbackReply();
    }

    public override Task<SettleFeedbackReply> AbandonFeedback(SettleFeedbackRequest request, ServerCallContext context)
    {
        authorizer.Require(context, AccessRights.ServiceConnect, FeedbackPath);
        feedback.Abandon(ParseLockToken(request.LockToken));
        return Task.FromResult(new SettleFeedbackReply());
    }

    internal static FeedbackMode ParseAck(string ack) => ack.ToLowerInvariant() switch
    {
        "" or "none" => FeedbackMode.None,
        "positive" => FeedbackMode.Positive,
        "negative" => FeedbackMode.Negative,
        "full" => FeedbackMode.Full,
        _ => throw IotHubErrors.ArgumentInvalid($"iothub-ack '{ack}' is not one of none, positive, negative, full."),
    };

    private static Guid ParseLockToken(string lockToken)
        => Guid.TryParse(lockToken, out var token) ? token : throw IotHubErrors.ArgumentInvalid($"'{lockToken}' is not a lock token.");

    private static string? NullIfEmpty(string value) => value.Length == 0 ? null : value;

    private static string Iso(DateTimeOffset time) => time.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.FFFFFFF'Z'", CultureInfo.InvariantCulture);
}
