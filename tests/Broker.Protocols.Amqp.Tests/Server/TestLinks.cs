using System.Buffers;
using System.Collections.Concurrent;
using System.Threading.Channels;
using Broker.Protocols.Amqp.Codec;
using Broker.Protocols.Amqp.Server;

namespace Broker.Protocols.Amqp.Tests.Server;

/// <summary>
/// The application side for the engine tests, by address: target "accept" accepts and records messages, "reject"
/// rejects them, "missing" is refused at attach; source "outbound" sends what <see cref="Outbound"/> holds as credit
/// allows and records the outcomes.
/// </summary>
internal sealed class TestLinks : IAmqpLinkHandler
{
    public Channel<(AmqpLink Link, byte[] Message)> Received { get; } = Channel.CreateUnbounded<(AmqpLink, byte[])>();

    public Channel<(uint DeliveryId, AmqpOutcome Outcome)> Outcomes { get; } = Channel.CreateUnbounded<(uint, AmqpOutcome)>();

    public ConcurrentQueue<byte[]> Outbound { get; } = new();

    public TaskCompletionSource<AmqpLink> Detached { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public ValueTask<AmqpLinkDecision> OnAttachAsync(AmqpLink link, CancellationToken cancellationToken)
    {
        string? address = link.Role == AmqpRole.Receiver ? link.TargetAddress : link.SourceAddress;
        if (address == "manual" && link.Role == AmqpRole.Receiver)
        {
            // The application grants credit itself: one message, then none until it says so.
            link.AutoCredit = false;
            link.GrantCredit(1);
            return ValueTask.FromResult(AmqpLinkDecision.Accept(new Target(this, AmqpOutcome.Accepted)));
        }

        return ValueTask.FromResult(address switch
        {
            "accept" when link.Role == AmqpRole.Receiver => AmqpLinkDecision.Accept(new Target(this, AmqpOutcome.Accepted)),
            "reject" when link.Role == AmqpRole.Receiver => AmqpLinkDecision.Accept(new Target(this, AmqpOutcome.Rejected("amqp:not-allowed", "no thanks"))),
            "outbound" when link.Role == AmqpRole.Sender => AmqpLinkDecision.Accept(new Source(this)),
            _ => AmqpLinkDecision.Refuse("amqp:not-found", $"No node at {address}."),
        });
    }

    private sealed class Target(TestLinks owner, AmqpOutcome outcome) : IAmqpLinkEndpoint
    {
        public void OnMessage(AmqpLink link, AmqpIncomingDelivery delivery, in ReadOnlySequence<byte> message)
        {
            owner.Received.Writer.TryWrite((link, message.ToArray()));
            if (!delivery.Settled)
            {
                link.Settle(delivery.DeliveryId, outcome);
            }
        }

        public void OnDetached(AmqpLink link) => owner.Detached.TrySetResult(link);
    }

    private sealed class Source(TestLinks owner) : IAmqpLinkEndpoint
    {
        private int _tag;

        public void OnCredit(AmqpLink link)
        {
            while (link.Credit > 0 && owner.Outbound.TryPeek(out byte[]? message))
            {
                byte[] tag = BitConverter.GetBytes(Interlocked.Increment(ref _tag));
                if (!link.TrySend(message, tag, out _))
                {
                    return;
                }

                owner.Outbound.TryDequeue(out _);
            }
        }

        public void OnOutcome(AmqpLink link, uint deliveryId, AmqpOutcome outcome) => owner.Outcomes.Writer.TryWrite((deliveryId, outcome));

        public void OnDetached(AmqpLink link) => owner.Detached.TrySetResult(link);
    }
}

/// <summary>Accepts PLAIN user "dev1" with password "secret", ANONYMOUS, and EXTERNAL.</summary>
internal sealed class TestAuthenticator : IAmqpSaslAuthenticator
{
    public ValueTask<string?> AuthenticateAsync(AmqpSaslRequest request, AmqpConnectionInfo connection, CancellationToken cancellationToken)
    {
        string? identity = request.Mechanism switch
        {
            "PLAIN" when request.TryGetPlainCredentials(out string user, out string password) && user == "dev1" && password == "secret" => user,
            "ANONYMOUS" => "anonymous",
            _ => null,
        };
        return ValueTask.FromResult(identity);
    }
}
