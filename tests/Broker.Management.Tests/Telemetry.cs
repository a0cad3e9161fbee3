using System.Buffers;
using System.Text;
using Broker.Core.Hub;
using Broker.Core.Security;
using Broker.Core.Storage;
using Broker.Core.Telemetry;
using Broker.Management.V1;
using Grpc.Core;

namespace Broker.Management.Tests;

/// <summary>Appends telemetry straight into the store, as the protocol heads do, and reads event streams with bounded waits.</summary>
internal static class Telemetry
{
    public static readonly TimeSpan Wait = TimeSpan.FromSeconds(10);

    /// <summary>Appends one event for <paramref name="deviceId"/> and waits until it is durable (readable).</summary>
    public static async Task<TelemetryAppend> AppendAsync(IHubStore store, string deviceId, string bag, string payload,
        string? moduleId = null, AuthMethod auth = AuthMethod.IdentityKey, string? generationId = "638000000000000001")
    {
        var context = new DeviceContext(deviceId, moduleId, ProtocolKind.Mqtt, auth, generationId, DateTimeOffset.UtcNow, null);
        var identity = TelemetryEventCodec.EncodeIdentity(context);
        var body = new ArrayBufferWriter<byte>();
        TelemetryEventCodec.Write(body, identity, Encoding.UTF8.GetBytes(bag), new ReadOnlySequence<byte>(Encoding.UTF8.GetBytes(payload)));
        var events = store.GetPartitionFor(deviceId).Events;
        var append = events.Append(body.WrittenSpan);
        await events.WaitDurableAsync(append.EndAddress).AsTask().WaitAsync(Wait);
        return append;
    }

    /// <summary>The next <paramref name="count"/> events of a stream, failing after <see cref="Wait"/> instead of hanging.</summary>
    public static async Task<List<EventMessage>> TakeAsync(IAsyncStreamReader<EventMessage> stream, int count)
    {
        var messages = new List<EventMessage>();
        while (messages.Count < count)
        {
            Assert.True(await stream.MoveNext(CancellationToken.None).WaitAsync(Wait), "the stream ended");
            messages.Add(stream.Current);
        }

        return messages;
    }

    /// <summary>Starts a read and waits for its response headers, i.e. until its start positions are fixed.</summary>
    public static async Task<AsyncServerStreamingCall<EventMessage>> StartAsync(EventsService.EventsServiceClient client, ReadEventsRequest request, CallOptions options)
    {
        var call = client.ReadEvents(request, options);
        await call.ResponseHeadersAsync.WaitAsync(Wait);
        return call;
    }
}
