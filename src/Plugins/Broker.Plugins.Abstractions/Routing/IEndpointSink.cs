namespace Broker.Plugins.Routing;

/// <summary>
/// A custom routing endpoint: receives, in order, the messages that routes send to it. Register one per
/// endpoint as a keyed service whose key is the endpoint name used in the routes
/// (<c>services.AddKeyedSingleton&lt;IEndpointSink, MySink&gt;("my-endpoint")</c>).
/// </summary>
/// <remarks>
/// Delivery is at least once: the host's endpoint pump hands over a batch, waits for
/// <see cref="WriteAsync"/> to complete, then checkpoints past it. If the call throws, or the broker stops
/// before it completes, the same messages are offered again, so a sink should tolerate duplicates
/// (each message's <see cref="RoutedMessage.SequenceNumber"/> is stable). Calls for one endpoint never overlap.
/// </remarks>
public interface IEndpointSink
{
    /// <summary>Writes a batch of messages; completes when the sink has accepted them durably.</summary>
    /// <param name="batch">The messages, oldest first. Neither the list nor the bodies may be kept after the returned task completes.</param>
    /// <param name="cancellationToken">Cancelled when the broker stops; the batch is then offered again after restart.</param>
    ValueTask WriteAsync(IReadOnlyList<RoutedMessage> batch, CancellationToken cancellationToken);
}
