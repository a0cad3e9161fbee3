using System.Globalization;
using System.Threading.Channels;
using Broker.Core.Errors;
using Broker.Core.Security;
using Broker.Core.Storage;
using Broker.Management.Events;
using Broker.Management.V1;
using Grpc.Core;

namespace Broker.Management.Server;

/// <summary>
/// The built-in events endpoint over gRPC. Each partition read is a pump that visits durable events and waits
/// for more with <see cref="ITelemetryReader.WaitForEventsAsync"/>; the pumps feed one channel that the call
/// drains into the response stream until the client cancels.
/// </summary>
internal sealed class EventsGrpcService(IHubStore store, ConsumerGroups groups, CallAuthorizer authorizer) : EventsService.EventsServiceBase
{
    /// <summary>The REST path of the events endpoint, for tokens scoped below the host.</summary>
    private const string EventsPath = "messages/events";

    private const int BatchSize = 64;

    public override async Task ReadEvents(ReadEventsRequest request, IServerStreamWriter<EventMessage> responseStream, ServerCallContext context)
    {
        authorizer.Require(context, AccessRights.ServiceConnect, EventsPath);
        var group = groups.Resolve(request.ConsumerGroup);
        var partitions = Partitions(request);
        long? startTicks = request.Start == StartPosition.EnqueuedTime ? ParseTime(request.EnqueuedTime) : null;
        if (request.Start == StartPosition.Offset && !request.HasPartition)
        {
            throw IotHubErrors.ArgumentInvalid("An offset start position needs a partition: offsets are per partition.");
        }

        // Positions are fixed before the first event is sent, so `end` means "after this call began".
        var starts = partitions.Select(p => StartOf(store.GetPartition(p).Events, request, group, startTicks)).ToArray();

        // The pumps stop with the call, however it ends (client cancel, a failed write, a failed pump).
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(context.CancellationToken);
        var cancellation = stop.Token;

        // Headers go out once the positions are fixed: a client that awaits them knows `end` excludes nothing it sends later.
        await context.WriteResponseHeadersAsync([]).ConfigureAwait(false);
        var channel = Channel.CreateBounded<EventMessage>(new BoundedChannelOptions(4 * BatchSize) { SingleReader = true });
        var pumps = new Task[partitions.Length];
        for (int i = 0; i < partitions.Length; i++)
        {
            pumps[i] = PumpAsync(partitions[i], starts[i], request.DeviceId, channel.Writer, cancellation);
        }

        _ = Task.WhenAll(pumps).ContinueWith(t => channel.Writer.TryComplete(t.Exception?.GetBaseException()), TaskScheduler.Default);
        try
        {
            await foreach (var message in channel.Reader.ReadAllAsync(cancellation).ConfigureAwait(false))
            {
                await responseStream.WriteAsync(message, cancellation).ConfigureAwait(false);
            }
        }
        catch (OperationCanceledException) when (context.CancellationToken.IsCancellationRequested)
        {
            // The client went away: a tailing read ends only this way.
        }
        finally
        {
            await stop.CancelAsync().ConfigureAwait(false);
        }
    }

    public override async Task<CommitCheckpointReply> CommitCheckpoint(CommitCheckpointRequest request, ServerCallContext context)
    {
        authorizer.Require(context, AccessRights.ServiceConnect, EventsPath);
        var group = groups.Resolve(request.ConsumerGroup);
        CheckPartition(request.Partition);
        var partition = store.GetPartition(request.Partition);
        if (request.Offset < 0 || request.Offset >= partition.Events.TailOffset)
        {
            throw IotHubErrors.ArgumentInvalid($"Offset {request.Offset} is not an event of partition {request.Partition}.");
        }

        long address = partition.Events.SetReaderPosition(ConsumerGroups.ReaderName(group), request.Offset);
        await partition.State.WaitDurableAsync(address, context.CancellationToken).ConfigureAwait(false);
        return new CommitCheckpointReply();
    }

    public override async Task<ConsumerGroupReply> CreateConsumerGroup(ConsumerGroupRequest request, ServerCallContext context)
    {
        authorizer.Require(context, AccessRights.ServiceConnect, EventsPath);
        var name = await groups.CreateAsync(request.Name, context.CancellationToken).ConfigureAwait(false);
        return new ConsumerGroupReply { Name = name };
    }

    public override Task<ListConsumerGroupsReply> ListConsumerGroups(ListConsumerGroupsRequest request, ServerCallContext context)
    {
        authorizer.Require(context, AccessRights.ServiceConnect, EventsPath);
        var reply = new ListConsumerGroupsReply();
        reply.Names.AddRange(groups.List());
        return Task.FromResult(reply);
    }

    public override async Task<ConsumerGroupReply> DeleteConsumerGroup(ConsumerGroupRequest request, ServerCallContext context)
    {
        authorizer.Require(context, AccessRights.ServiceConnect, EventsPath);
        var name = await groups.DeleteAsync(request.Name, context.CancellationToken).ConfigureAwait(false);
        return new ConsumerGroupReply { Name = name };
    }

    private async Task PumpAsync(int partition, (long Open, long Min) start, string deviceId, ChannelWriter<EventMessage> writer, CancellationToken cancellationToken)
    {
        // Off the call's thread: reading the log is synchronous.
        await Task.Yield();
        try
        {
            var log = store.GetPartition(partition).Events;
            using var reader = log.OpenReader(start.Open);
            var visitor = new EventMessageReader(partition, start.Min, deviceId);
            while (true)
            {
                visitor.Messages.Clear();
                int read = reader.Read(visitor, BatchSize);
                foreach (var message in visitor.Messages)
                {
                    await writer.WriteAsync(message, cancellationToken).ConfigureAwait(false);
                }

                if (read == 0 && !await reader.WaitForEventsAsync(cancellationToken).ConfigureAwait(false))
                {
                    return; // the log is closing
                }
            }
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
        }
    }

    private int[] Partitions(ReadEventsRequest request)
    {
        if (!request.HasPartition)
        {
            return [.. Enumerable.Range(0, store.PartitionCount)];
        }

        CheckPartition(request.Partition);
        return [request.Partition];
    }

    private void CheckPartition(int partition)
    {
        if (partition < 0 || partition >= store.PartitionCount)
        {
            throw IotHubErrors.ArgumentInvalid($"Partition {partition} does not exist; the hub has partitions 0 to {store.PartitionCount - 1}.");
        }
    }

    /// <summary>Where a partition's reader opens and the lowest offset it hands out.</summary>
    private static (long Open, long Min) StartOf(ITelemetryLog log, ReadEventsRequest request, string group, long? startTicks)
    {
        switch (request.Start)
        {
            case StartPosition.Start:
                return (log.BeginOffset, 0);
            case StartPosition.End:
                long tail = log.TailOffset;
                return (tail, tail);
            case StartPosition.Offset:
                if (request.Offset < 0)
                {
                    throw IotHubErrors.ArgumentInvalid($"Offset {request.Offset} is negative.");
                }

                return (request.Offset, request.Offset);
            case StartPosition.EnqueuedTime:
                long offset = log.FindOffset(startTicks!.Value);
                return (offset, offset);
            default:
                // The checkpoint is the last processed event: resume after it.
                return log.GetReaderPosition(ConsumerGroups.ReaderName(group)) is { } committed
                    ? (committed, committed + 1)
                    : (log.BeginOffset, 0);
        }
    }

    private static long ParseTime(string text)
        => DateTimeOffset.TryParse(text, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var time)
            ? time.UtcTicks
            : throw IotHubErrors.ArgumentInvalid($"enqueued_time '{text}' is not an RFC 3339 time.");
}
