using System.Buffers;
using System.IO.Pipelines;
using Broker.Core.Threading;
using Broker.Protocols.Amqp.Codec;

namespace Broker.Protocols.Amqp.Server;

/// <summary>
/// The only writer of a connection's output pipe. Frames are encoded under a lock into a pending buffer (from the
/// read loop, the application's sends and the heartbeat timer alike); the writer loop swaps it out, copies it to the
/// pipe and flushes once per wake-up. Accepted settlements of consecutive deliveries on one session are held back
/// and go out as one disposition for the range (<see cref="SettleAccepted"/>), before any other frame.
/// </summary>
internal sealed class AmqpOutbox
{
    private readonly Lock _lock = new();
    private readonly PipeWriter _output;
    private readonly AsyncSignal _signal = new();
    private readonly TimeProvider _time;
    private ArrayBufferWriter<byte> _pending = new(4096);
    private ArrayBufferWriter<byte> _writing = new(4096);
    private bool _completed;
    private long _lastWrite;
    private bool _hasAcceptedRange;
    private ushort _rangeChannel;
    private uint _rangeFirst;
    private uint _rangeLast;

    public AmqpOutbox(PipeWriter output, TimeProvider time)
    {
        _output = output;
        _time = time;
        _lastWrite = time.GetTimestamp();
    }

    /// <summary>When a frame was last queued.</summary>
    public long LastWrite => Volatile.Read(ref _lastWrite);

    /// <summary>Bytes queued and not yet handed to the pipe.</summary>
    public int PendingBytes
    {
        get
        {
            lock (_lock)
            {
                return _pending.WrittenCount;
            }
        }
    }

    /// <summary>Starts writing frames: the returned scope holds the lock until disposed, then wakes the writer.</summary>
    public Scope Begin() => new(this);

    /// <summary>
    /// Queues "accepted, settled" for <paramref name="deliveryId"/> (the broker as receiver). While the writer has not
    /// taken the buffer, consecutive ids on the same session extend one disposition (<c>first..last</c>) instead of a
    /// frame each: a group commit accepts hundreds of transfers at once.
    /// </summary>
    public void SettleAccepted(ushort channel, uint deliveryId)
    {
        lock (_lock)
        {
            if (_completed)
            {
                return;
            }

            if (_hasAcceptedRange && _rangeChannel == channel && _rangeLast != uint.MaxValue && deliveryId == _rangeLast + 1)
            {
                _rangeLast = deliveryId;
            }
            else
            {
                WriteAcceptedRange();
                _hasAcceptedRange = true;
                _rangeChannel = channel;
                _rangeFirst = _rangeLast = deliveryId;
            }

            Volatile.Write(ref _lastWrite, _time.GetTimestamp());
        }

        _signal.Set();
    }

    /// <summary>Writes the held-back range, if any; under the lock.</summary>
    private void WriteAcceptedRange()
    {
        if (!_hasAcceptedRange)
        {
            return;
        }

        _hasAcceptedRange = false;
        AmqpFrameWriter.WriteFrame(_pending, AmqpFrameType.Amqp, _rangeChannel, new AmqpDisposition
        {
            Role = AmqpRole.Receiver,
            First = _rangeFirst,
            Last = _rangeLast == _rangeFirst ? null : _rangeLast,
            Settled = true,
            State = AmqpDeliveryState.Accepted,
        });
    }

    /// <summary>Stops taking frames; the writer loop writes what is queued and ends.</summary>
    public void Complete()
    {
        lock (_lock)
        {
            _completed = true;
        }

        _signal.Set();
    }

    public async Task RunAsync(CancellationToken cancellationToken)
    {
        while (true)
        {
            await _signal.WaitAsync().ConfigureAwait(false);
            bool completed;
            lock (_lock)
            {
                WriteAcceptedRange();
                (_pending, _writing) = (_writing, _pending);
                completed = _completed;
            }

            if (_writing.WrittenCount > 0)
            {
                _output.Write(_writing.WrittenSpan);
                _writing.ResetWrittenCount();
                FlushResult result = await _output.FlushAsync(cancellationToken).ConfigureAwait(false);
                if (result.IsCompleted || result.IsCanceled)
                {
                    return;
                }
            }

            if (completed)
            {
                lock (_lock)
                {
                    if (_pending.WrittenCount == 0)
                    {
                        return;
                    }
                }

                _signal.Set();
            }
        }
    }

    /// <summary>Exclusive access to the pending buffer.</summary>
    public ref struct Scope
    {
        private readonly AmqpOutbox _outbox;
        private Lock.Scope _lockScope;

        internal Scope(AmqpOutbox outbox)
        {
            _outbox = outbox;
            _lockScope = outbox._lock.EnterScope();
            if (!outbox._completed)
            {
                outbox.WriteAcceptedRange(); // frames stay in order
            }
        }

        /// <summary>False once the outbox is completed: frames written then are dropped.</summary>
        public readonly bool IsOpen => !_outbox._completed;

        public readonly IBufferWriter<byte> Writer => _outbox._completed ? Sink.Instance : _outbox._pending;

        public void Dispose()
        {
            Volatile.Write(ref _outbox._lastWrite, _outbox._time.GetTimestamp());
            _lockScope.Dispose();
            _outbox._signal.Set();
        }
    }

    /// <summary>Swallows frames written after completion.</summary>
    private sealed class Sink : IBufferWriter<byte>
    {
        public static readonly Sink Instance = new();
        private readonly byte[] _scratch = new byte[64 * 1024];

        public void Advance(int count)
        {
        }

        public Memory<byte> GetMemory(int sizeHint = 0) => sizeHint <= _scratch.Length ? _scratch : new byte[sizeHint];

        public Span<byte> GetSpan(int sizeHint = 0) => GetMemory(sizeHint).Span;
    }
}
