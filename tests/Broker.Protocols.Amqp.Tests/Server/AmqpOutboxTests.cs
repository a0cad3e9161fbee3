using System.Buffers;
using System.IO.Pipelines;
using Broker.Protocols.Amqp.Codec;
using Broker.Protocols.Amqp.Server;

namespace Broker.Protocols.Amqp.Tests.Server;

public sealed class AmqpOutboxTests
{
    [Fact]
    public async Task SettleAccepted_ConsecutiveIdsOnOneSession_GoOutAsOneRange_BeforeTheNextFrame()
    {
        var pipe = new Pipe();
        var outbox = new AmqpOutbox(pipe.Writer, TimeProvider.System);
        outbox.SettleAccepted(0, 5);
        outbox.SettleAccepted(0, 6);
        outbox.SettleAccepted(0, 7);
        outbox.SettleAccepted(0, 9); // a gap: a new range
        outbox.SettleAccepted(1, 10); // another session: a new range
        using (AmqpOutbox.Scope scope = outbox.Begin())
        {
            AmqpFrameWriter.WriteFrame(scope.Writer, AmqpFrameType.Amqp, 1, new AmqpBegin { NextOutgoingId = 1, IncomingWindow = 2, OutgoingWindow = 3 });
        }

        outbox.SettleAccepted(1, 11); // after the frame: stays after it
        outbox.Complete();
        await outbox.RunAsync(CancellationToken.None).WaitAsync(TimeSpan.FromSeconds(10));
        await pipe.Writer.CompleteAsync();

        var frames = await ReadFramesAsync(pipe.Reader);
        Assert.Equal(5, frames.Count);
        AssertAccepted(frames[0], channel: 0, first: 5, last: 7);
        AssertAccepted(frames[1], channel: 0, first: 9, last: 9);
        AssertAccepted(frames[2], channel: 1, first: 10, last: 10);
        Assert.Equal(3u, AmqpBegin.Decode(frames[3].Body).OutgoingWindow);
        AssertAccepted(frames[4], channel: 1, first: 11, last: 11);
    }

    private static void AssertAccepted((ushort Channel, byte[] Body) frame, ushort channel, uint first, uint last)
    {
        AmqpDisposition disposition = AmqpDisposition.Decode(frame.Body);
        Assert.Equal(channel, frame.Channel);
        Assert.Equal(AmqpRole.Receiver, disposition.Role);
        Assert.True(disposition.Settled);
        Assert.Equal(AmqpDeliveryStateKind.Accepted, disposition.State.Kind);
        Assert.Equal(first, disposition.First);
        Assert.Equal(last, disposition.EffectiveLast);
    }

    private static async Task<List<(ushort Channel, byte[] Body)>> ReadFramesAsync(PipeReader reader)
    {
        var frames = new List<(ushort, byte[])>();
        while (true)
        {
            ReadResult result = await reader.ReadAsync();
            ReadOnlySequence<byte> buffer = result.Buffer;
            while (AmqpFrameReader.TryReadFrame(buffer, 65536, out AmqpFrame frame, out SequencePosition consumed, out _) == OperationStatus.Done)
            {
                frames.Add((frame.Channel, frame.Body.ToArray()));
                buffer = buffer.Slice(consumed);
            }

            reader.AdvanceTo(buffer.Start, buffer.End);
            if (result.IsCompleted)
            {
                return frames;
            }
        }
    }
}
