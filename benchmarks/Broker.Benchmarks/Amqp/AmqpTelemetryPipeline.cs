using System.Buffers;
using System.Buffers.Binary;
using System.IO.Pipelines;
using System.Runtime.CompilerServices;
using System.Text;
using Broker.Core.CloudToDevice;
using Broker.Core.Hub;
using Broker.Core.Methods;
using Broker.Core.Registry;
using Broker.Core.Security;
using Broker.Core.Twins;
using Broker.Protocols.Amqp.Codec;
using Broker.Protocols.Amqp.IotHub;
using Broker.Protocols.Amqp.Server;
using Broker.Storage.Faster;
using Microsoft.AspNetCore.Connections;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;

namespace Broker.Benchmarks.Amqp;

/// <summary>
/// The device-to-cloud path over AMQP in process, without sockets: a real <see cref="AmqpConnection"/> with the IoT Hub
/// endpoints (<see cref="IotHubAmqpHub"/>, composed as the host composes it) over in-memory pipes, a one-partition
/// FASTER store, and a device authenticated with SASL PLAIN and a SAS token, whose sender link is attached to
/// <c>/devices/{id}/messages/events</c>. <see cref="SendBatchAsync"/> writes a batch of unsettled telemetry transfers
/// (pre-encoded; only their delivery ids and tags are rewritten) and completes once every delivery has been accepted,
/// which the hub does when its event is durable. Shared by the benchmark and the allocation-budget test.
/// </summary>
internal sealed class AmqpTelemetryPipeline : IAsyncDisposable
{
    private const string HubName = "bench-hub";
    private const string DeviceId = "bench-device";
    private const int SegmentsPerFlush = 16;
    private const uint FirstDeliveryId = 256; // from here on a delivery id is encoded as a 4-byte uint, so it can be rewritten in place

    private readonly Pipe _toBroker;
    private readonly Pipe _fromBroker;
    private readonly string _directory;
    private readonly int _messages;
    private readonly int _segmentBytes;
    private FasterHubStore _store = null!;
    private AmqpConnectionMonitor _monitor = null!;
    private Task _connection = Task.CompletedTask;
    private byte[] _batch = [];
    private int _frameLength;
    private int _deliveryIdOffset;
    private int _deliveryTagOffset;
    private uint _nextDeliveryId = FirstDeliveryId;

    private AmqpTelemetryPipeline(string directory, int messages, int segmentBytes)
    {
        _directory = directory;
        _messages = messages;
        _segmentBytes = segmentBytes;
        // Both pipes take blocks from a pool that keeps them (as Kestrel's pinned block pool does), so that what is measured
        // is the broker, not ArrayPool<byte>.Shared's trimming of a benchmark's megabyte-sized buffers. Segmented, the input
        // pipe also behaves like a socket transport's: the writer waits when the reader falls behind.
        _toBroker = segmentBytes == 0
            ? new Pipe(new PipeOptions(new BlockPool(), pauseWriterThreshold: 0, useSynchronizationContext: false))
            : new Pipe(new PipeOptions(new BlockPool(), pauseWriterThreshold: 64 * 1024, resumeWriterThreshold: 32 * 1024,
                minimumSegmentSize: segmentBytes, useSynchronizationContext: false));
        _fromBroker = new Pipe(new PipeOptions(new BlockPool(), pauseWriterThreshold: 0, useSynchronizationContext: false));
    }

    /// <summary>Deliveries per batch.</summary>
    public int Messages => _messages;

    /// <summary>The group commits of the partition's events log so far (FASTER allocates per commit, shared by its messages).</summary>
    public long GroupCommits => ((FasterPartitionStore)_store.GetPartition(0)).EventsLog.DurableLog.GroupCommits;

    /// <summary>Opens the store in <paramref name="directory"/>, connects, authenticates and attaches the telemetry link.</summary>
    /// <param name="directory">The store's folder.</param>
    /// <param name="messages">Deliveries per batch.</param>
    /// <param name="payloadBytes">The body size of each message.</param>
    /// <param name="segmentBytes">0: a batch arrives as one pipe segment; else in segments of this size, so frames straddle them.</param>
    public static async Task<AmqpTelemetryPipeline> StartAsync(string directory, int messages, int payloadBytes, int segmentBytes = 0)
    {
        var pipeline = new AmqpTelemetryPipeline(directory, messages, segmentBytes);
        await pipeline.OpenAsync(payloadBytes);
        return pipeline;
    }

    /// <summary>
    /// Writes one batch of transfers and waits for its dispositions (all accepted). A pooled value task, so that the
    /// caller's awaits allocate nothing (an async Task costs its state machine per call).
    /// </summary>
    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder))]
    public async ValueTask SendBatchAsync()
    {
        NumberDeliveries();
        if (_segmentBytes == 0)
        {
            _batch.CopyTo(_toBroker.Writer.GetMemory(_batch.Length));
            _toBroker.Writer.Advance(_batch.Length);
            await _toBroker.Writer.FlushAsync();
        }
        else
        {
            // As a socket transport hands it over: one pipe segment per receive, a flush every few of them.
            for (int offset = 0; offset < _batch.Length;)
            {
                int count = Math.Min(_segmentBytes, _batch.Length - offset);
                _batch.AsSpan(offset, count).CopyTo(_toBroker.Writer.GetSpan(count));
                _toBroker.Writer.Advance(count);
                offset += count;
                if (offset % (_segmentBytes * SegmentsPerFlush) == 0 || offset == _batch.Length)
                {
                    await _toBroker.Writer.FlushAsync();
                }
            }
        }

        int pending = _messages;
        while (pending > 0)
        {
            ReadResult result = await _fromBroker.Reader.ReadAsync();
            pending -= CountAccepted(result.Buffer, out SequencePosition consumed);
            _fromBroker.Reader.AdvanceTo(consumed, result.Buffer.End);
            if (result.IsCompleted && pending > 0)
            {
                throw new InvalidOperationException("The broker closed the connection.");
            }
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _toBroker.Writer.CompleteAsync();
        await _connection;
        _monitor.Dispose();
        await _store.DisposeAsync();
    }

    // Fresh delivery ids (and tags, the id's 4 bytes) for the next batch, written into the pre-encoded frames.
    private void NumberDeliveries()
    {
        Span<byte> frames = _batch;
        for (int i = 0; i < _messages; i++)
        {
            uint id = _nextDeliveryId++;
            int frame = i * _frameLength;
            BinaryPrimitives.WriteUInt32BigEndian(frames[(frame + _deliveryIdOffset)..], id);
            BinaryPrimitives.WriteUInt32BigEndian(frames[(frame + _deliveryTagOffset)..], id);
        }
    }

    private async Task OpenAsync(int payloadBytes)
    {
        _store = FasterHubStore.Open(new FasterStoreOptions { DataDirectory = _directory, PartitionCount = 1, CheckpointInterval = TimeSpan.FromHours(1) });
        var time = TimeProvider.System;
        var registry = new IdentityRegistry(_store, time);
        var device = await registry.CreateDeviceAsync(new Device { DeviceId = DeviceId });
        var policies = await SharedAccessPolicies.LoadOrCreateAsync(_store);
        var connections = new ConnectionRegistry();
        var cloudToDeviceOptions = new CloudToDeviceOptions();
        var feedback = new FeedbackQueue(_store, cloudToDeviceOptions, time);
        var cloudToDevice = new CloudToDeviceService(_store, registry, connections, feedback, cloudToDeviceOptions, time);
        var twins = new TwinService(_store, registry, connections, time, (deviceId, moduleId) => moduleId is null ? cloudToDevice.PendingCount(deviceId) : 0);
        var methods = new MethodInvoker(connections, registry, time);

        // The default options but for the link credit: the device may send a whole batch without waiting for a flow.
        var amqpOptions = new AmqpServerOptions { LinkCredit = (uint)_messages, SweepInterval = TimeSpan.FromHours(1) };
        var hub = new IotHubAmqpHub(new DeviceAuthenticator(HubName, registry, policies, time), _store, connections, cloudToDevice, feedback, methods, twins,
            policies, Options.Create(new HubOptions { HostName = HubName }), Options.Create(amqpOptions), time, NullLogger<IotHubAmqpHub>.Instance);
        _monitor = new AmqpConnectionMonitor(Options.Create(amqpOptions), time);
        var context = new DefaultConnectionContext("bench",
            new DuplexPipe(_toBroker.Reader, _fromBroker.Writer), new DuplexPipe(_fromBroker.Reader, _toBroker.Writer));
        _connection = new AmqpConnection(context, null, amqpOptions, hub, hub, _monitor, time, NullLogger.Instance).RunAsync();

        // SASL PLAIN with the device's SAS token, as the IoT Hub SDKs' "SAS over SASL" does.
        string token = SasTokenBuilder.Create(SasTokenBuilder.ResourceFor(HubName, DeviceId), device.Authentication!.SymmetricKey!.PrimaryKey!, DateTimeOffset.UtcNow.AddDays(1));
        Send(AmqpProtocolHeader.Sasl);
        await FlushAsync();
        await ExpectHeaderAsync(AmqpProtocolHeader.Sasl.ToArray());
        await ReadFrameAsync(); // sasl-mechanisms
        byte[] response = Encoding.UTF8.GetBytes($"\0{DeviceId}@sas.{HubName}\0{token}");
        SendFrame(AmqpFrameType.Sasl, new AmqpSaslInit { Mechanism = "PLAIN"u8, InitialResponse = response, Hostname = Encoding.UTF8.GetBytes(HubName) });
        await FlushAsync();
        if (AmqpSaslOutcome.Decode(await ReadFrameAsync()).Code != AmqpSaslCode.Ok)
        {
            throw new InvalidOperationException("SASL PLAIN was refused.");
        }

        Send(AmqpProtocolHeader.Amqp);
        SendFrame(AmqpFrameType.Amqp, new AmqpOpen { ContainerId = "bench-client"u8, Hostname = Encoding.UTF8.GetBytes(HubName), MaxFrameSize = 65536 });
        SendFrame(AmqpFrameType.Amqp, new AmqpBegin { NextOutgoingId = 0, IncomingWindow = 5000, OutgoingWindow = 5000 });
        SendFrame(AmqpFrameType.Amqp, new AmqpAttach
        {
            Name = "telemetry"u8,
            Handle = 0,
            Role = AmqpRole.Sender,
            SndSettleMode = AmqpSenderSettleMode.Unsettled,
            RcvSettleMode = AmqpReceiverSettleMode.First,
            Source = new AmqpSource { IsPresent = true, Address = "telemetry-source"u8 },
            Target = new AmqpTarget { IsPresent = true, Address = Encoding.UTF8.GetBytes($"/devices/{DeviceId}/messages/events") },
            InitialDeliveryCount = 0,
        });
        await FlushAsync();
        await ExpectHeaderAsync(AmqpProtocolHeader.Amqp.ToArray());
        await ExpectAsync(AmqpDescriptor.Open);
        await ExpectAsync(AmqpDescriptor.Begin);
        byte[] attach = await ExpectAsync(AmqpDescriptor.Attach);
        if (!AmqpAttach.Decode(attach).Target.IsPresent)
        {
            throw new InvalidOperationException("The hub refused the telemetry link.");
        }

        byte[] flow = await ExpectAsync(AmqpDescriptor.Flow);
        if (AmqpFlow.Decode(flow).LinkCredit is not { } credit || credit < (uint)_messages)
        {
            throw new InvalidOperationException("The hub granted less credit than a batch needs.");
        }

        EncodeBatch(payloadBytes);
    }

    // The batch: _messages transfers of one telemetry message each, as the C# device SDK sends them (string message-id,
    // content type and encoding, two application properties, one data section).
    private void EncodeBatch(int payloadBytes)
    {
        byte[] payload = new byte[payloadBytes];
        new Random(1).NextBytes(payload);
        var message = new ArrayBufferWriter<byte>();
        var writer = new AmqpWriter(message);
        AmqpMessageWriter.WriteProperties(ref writer, new AmqpProperties
        {
            MessageId = IotHubAmqpMessages.EncodeString("5f6b5c1e-3b0c-4a55-9d0e-3a1b2c3d4e5f"),
            ContentType = "application/json"u8,
            ContentEncoding = "utf-8"u8,
        });
        AmqpMessageWriter.BeginApplicationProperties(ref writer);
        writer.WriteString("temperatureAlert"u8);
        writer.WriteString("false"u8);
        writer.WriteString("sensor"u8);
        writer.WriteString("s-17"u8);
        AmqpMessageWriter.EndMapSection(ref writer);
        AmqpMessageWriter.WriteData(ref writer, payload);
        writer.Commit();

        const uint marker = 0xA1B2C3D4;
        Span<byte> tag = stackalloc byte[4];
        BinaryPrimitives.WriteUInt32BigEndian(tag, marker);
        var frames = new ArrayBufferWriter<byte>();
        for (int i = 0; i < _messages; i++)
        {
            AmqpFrameWriter.WriteFrame(frames, AmqpFrameType.Amqp, 0,
                new AmqpTransfer { Handle = 0, DeliveryId = marker, DeliveryTag = tag, MessageFormat = AmqpMessageFormat.Standard, Settled = false },
                message.WrittenSpan);
        }

        _batch = frames.WrittenSpan.ToArray();
        _frameLength = _batch.Length / _messages;
        ReadOnlySpan<byte> first = _batch.AsSpan(0, _frameLength);
        ReadOnlySpan<byte> encodedId = [AmqpFormatCode.UInt, 0xA1, 0xB2, 0xC3, 0xD4];
        ReadOnlySpan<byte> encodedTag = [AmqpFormatCode.Binary8, 4, 0xA1, 0xB2, 0xC3, 0xD4];
        _deliveryIdOffset = first.IndexOf(encodedId) + 1;
        _deliveryTagOffset = first.IndexOf(encodedTag) + 2;
        if (_deliveryIdOffset <= 0 || _deliveryTagOffset <= 1)
        {
            throw new InvalidOperationException("The transfer's delivery id or tag was not found.");
        }
    }

    // Counts the deliveries the dispositions in the buffer accept (ranges first..last included); skips flows.
    private static int CountAccepted(in ReadOnlySequence<byte> buffer, out SequencePosition consumed)
    {
        int accepted = 0;
        ReadOnlySequence<byte> unread = buffer;
        consumed = buffer.Start;
        Span<byte> scratch = stackalloc byte[256];
        while (AmqpFrameReader.TryReadFrame(unread, uint.MaxValue, out AmqpFrame frame, out SequencePosition end, out _) == OperationStatus.Done)
        {
            ReadOnlySequence<byte> body = frame.Body;
            ReadOnlySpan<byte> span = body.IsSingleSegment ? body.FirstSpan : Gather(body, scratch);
            ulong descriptor = span.IsEmpty ? 0 : AmqpPerformativeBody.PeekDescriptor(span);
            if (descriptor == AmqpDescriptor.Disposition)
            {
                AmqpDisposition disposition = AmqpDisposition.Decode(span);
                if (disposition.State.Kind != AmqpDeliveryStateKind.Accepted || disposition.Settled != true)
                {
                    throw new InvalidOperationException($"A delivery was not accepted: {disposition.State.Kind}.");
                }

                accepted += (int)(disposition.EffectiveLast - disposition.First + 1);
            }
            else if (descriptor != AmqpDescriptor.Flow && !span.IsEmpty)
            {
                throw new InvalidOperationException($"Unexpected performative 0x{descriptor:X2} from the hub.");
            }

            unread = unread.Slice(end);
            consumed = end;
        }

        return accepted;
    }

    private static ReadOnlySpan<byte> Gather(in ReadOnlySequence<byte> body, Span<byte> scratch)
    {
        if (body.Length > scratch.Length)
        {
            throw new InvalidOperationException("A frame too large for a disposition or a flow.");
        }

        body.CopyTo(scratch);
        return scratch[..(int)body.Length];
    }

    private void Send(ReadOnlySpan<byte> bytes) => _toBroker.Writer.Write(bytes);

    private void SendFrame<T>(AmqpFrameType type, scoped in T performative)
        where T : IAmqpPerformative, allows ref struct
        => AmqpFrameWriter.WriteFrame(_toBroker.Writer, type, 0, performative);

    private async Task FlushAsync() => await _toBroker.Writer.FlushAsync();

    private async Task ExpectHeaderAsync(byte[] expected)
    {
        while (true)
        {
            ReadResult result = await _fromBroker.Reader.ReadAsync();
            if (result.Buffer.Length >= AmqpProtocolHeader.Size)
            {
                byte[] header = result.Buffer.Slice(0, AmqpProtocolHeader.Size).ToArray();
                _fromBroker.Reader.AdvanceTo(result.Buffer.GetPosition(AmqpProtocolHeader.Size));
                if (!header.AsSpan().SequenceEqual(expected))
                {
                    throw new InvalidOperationException("The hub answered with another protocol header.");
                }

                return;
            }

            ThrowIfCompleted(result);
            _fromBroker.Reader.AdvanceTo(result.Buffer.Start, result.Buffer.End);
        }
    }

    private async Task<byte[]> ExpectAsync(ulong descriptor)
    {
        byte[] body = await ReadFrameAsync();
        if (body.Length == 0 || AmqpPerformativeBody.PeekDescriptor(body) != descriptor)
        {
            throw new InvalidOperationException($"Expected performative 0x{descriptor:X2} from the hub.");
        }

        return body;
    }

    private async Task<byte[]> ReadFrameAsync()
    {
        while (true)
        {
            ReadResult result = await _fromBroker.Reader.ReadAsync();
            if (AmqpFrameReader.TryReadFrame(result.Buffer, uint.MaxValue, out AmqpFrame frame, out SequencePosition end, out _) == OperationStatus.Done)
            {
                byte[] body = frame.Body.ToArray();
                _fromBroker.Reader.AdvanceTo(end);
                return body;
            }

            ThrowIfCompleted(result);
            _fromBroker.Reader.AdvanceTo(result.Buffer.Start, result.Buffer.End);
        }
    }

    private static void ThrowIfCompleted(in ReadResult result)
    {
        if (result.IsCompleted)
        {
            throw new InvalidOperationException("The hub closed the connection.");
        }
    }

    /// <summary>Blocks kept once returned and handed out again (the smallest that fits): renting allocates nothing once warm.</summary>
    private sealed class BlockPool : MemoryPool<byte>
    {
        private const int MinimumBlockSize = 4096;
        private readonly Lock _lock = new();
        private readonly List<Block> _free = [];

        public override int MaxBufferSize => int.MaxValue;

        public override IMemoryOwner<byte> Rent(int minBufferSize = -1)
        {
            int size = Math.Max(minBufferSize, MinimumBlockSize);
            lock (_lock)
            {
                int best = -1;
                for (int i = 0; i < _free.Count; i++)
                {
                    int length = _free[i].Memory.Length;
                    if (length >= size && (best < 0 || length < _free[best].Memory.Length))
                    {
                        best = i;
                    }
                }

                if (best >= 0)
                {
                    Block block = _free[best];
                    _free[best] = _free[^1];
                    _free.RemoveAt(_free.Count - 1);
                    return block;
                }
            }

            return new Block(this, new byte[size]);
        }

        protected override void Dispose(bool disposing)
        {
        }

        private void Return(Block block)
        {
            lock (_lock)
            {
                _free.Add(block);
            }
        }

        private sealed class Block(BlockPool pool, byte[] array) : IMemoryOwner<byte>
        {
            public Memory<byte> Memory { get; } = array;

            public void Dispose() => pool.Return(this);
        }
    }

    private sealed class DuplexPipe(PipeReader input, PipeWriter output) : IDuplexPipe
    {
        public PipeReader Input { get; } = input;

        public PipeWriter Output { get; } = output;
    }
}
