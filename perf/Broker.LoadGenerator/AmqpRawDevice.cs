using System.Buffers;
using System.Buffers.Text;
using System.Diagnostics;
using System.IO.Pipelines;
using System.Net.Security;
using System.Net.Sockets;
using System.Text;
using Broker.Protocols.Amqp.Codec;

namespace Broker.LoadGenerator;

/// <summary>
/// A device speaking AMQP 1.0 on a plain socket (or TLS stream) with pipes and the broker's own AMQP codec, as IoT
/// Hub devices do: SASL PLAIN with <c>{deviceId}@sas.{hub}</c> and the SAS token, one session, one sender link to
/// <c>/devices/{id}/messages/events</c>. A message is its variable head (properties with the message-id, two
/// application properties) written in front of a data section encoded once; an Accepted disposition is a table
/// lookup and a histogram increment. QoS 1 = unsettled transfers in an in-flight window, QoS 0 = pre-settled.
/// </summary>
internal sealed class AmqpRawDevice(DeviceCredentials credentials, LoadOptions options, byte[] payload)
    : SimulatedDevice(credentials, options, payload)
{
    /// <summary>The largest frame this side accepts (it only receives flows, dispositions and the like).</summary>
    private const uint OwnMaxFrameSize = 64 * 1024;

    /// <summary>Room for the transfer performative in front of a frame's payload.</summary>
    private const int TransferOverhead = 64;

    /// <summary>Room for the message head: properties (message-id) and application properties.</summary>
    private const int HeadRoom = 512;

    private const uint Handle = 0;
    private const uint CbsSenderHandle = 1;
    private const uint CbsReceiverHandle = 2;

    private static readonly byte[] CbsSenderName = "cbs-sender"u8.ToArray();
    private static readonly byte[] CbsReceiverName = "cbs-receiver"u8.ToArray();

    // Pre-settled sends have no ack to wait for: a few messages per flush keep syscalls down without hiding back-pressure.
    private const int PresettledBatch = 16;

    private readonly long[] _sentAt = new long[ushort.MaxValue + 1];
    private readonly byte[] _messageIdPrefix = Encoding.ASCII.GetBytes(credentials.DeviceId + "-");
    private readonly TaskCompletionSource _drained = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly byte[] _headScratch = new byte[HeadRoom];
    private readonly byte[] _eventsLinkName = Encoding.UTF8.GetBytes("events-" + credentials.DeviceId);
    private readonly byte[] _idScratch = new byte[2 + credentials.DeviceId.Length + 1 + 20];
    private byte[] _message = [];
    private int _dataOffset;
    private SemaphoreSlim? _window;
    private Stream? _stream;
    private PipeReader? _reader;
    private PipeWriter? _writer;
    private Task? _receiveLoop;
    private RunClock? _clock;
    private uint _remoteMaxFrameSize = AmqpFrameReader.MinMaxFrameSize;

    // Written by the send loop only.
    private uint _deliveryCount;
    private uint _nextOutgoingId;
    private long _sequence;

    // Written by the receive loop only: the delivery count and transfer id up to which the broker allows sending.
    private uint _creditLimit;
    private uint? _remoteEventsHandle;

    // Delivery ids are the session's: over CBS the put-token took the first one.
    private uint _deliveryIdBase;
    private uint _sessionLimit;
    private TaskCompletionSource? _creditWaiter;

    // The one unsettled transfer that ends a pre-settled run: its disposition says the broker read everything before it.
    private uint _fenceId;
    private int _fenceSent;
    private int _draining;
    private volatile bool _closing;
    private volatile bool _sending;

    public override async Task ConnectAsync(CancellationToken cancellationToken)
    {
        var socket = new Socket(SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        try
        {
            await socket.ConnectAsync(Options.Host, Options.Port, cancellationToken).ConfigureAwait(false);
        }
        catch
        {
            socket.Dispose();
            throw;
        }

        Stream stream = new NetworkStream(socket, ownsSocket: true);
        if (Options.Tls)
        {
            var tls = new SslStream(stream, leaveInnerStreamOpen: false);
            stream = tls;
            await tls.AuthenticateAsClientAsync(RawDevice.TlsOptions(Options), cancellationToken).ConfigureAwait(false);
        }

        _stream = stream;
        _reader = PipeReader.Create(stream, new StreamPipeReaderOptions(bufferSize: 4096));
        _writer = PipeWriter.Create(stream, new StreamPipeWriterOptions(minimumBufferSize: 32 * 1024));

        var cbs = Options.AmqpAuth == AmqpAuth.Cbs;
        if (!cbs)
        {
            await AuthenticateAsync(cancellationToken).ConfigureAwait(false);
        }

        // Pipelined: the AMQP header, open, begin and the first attaches in one write (§2.4.1 allows it).
        AmqpProtocolHeader.Write(_writer, AmqpProtocolId.Amqp);
        AmqpFrameWriter.WriteFrame(_writer, AmqpFrameType.Amqp, 0, new AmqpOpen
        {
            ContainerId = Encoding.UTF8.GetBytes(Credentials.DeviceId),
            Hostname = Encoding.UTF8.GetBytes(Credentials.HubHost),
            MaxFrameSize = OwnMaxFrameSize,
        });
        AmqpFrameWriter.WriteFrame(_writer, AmqpFrameType.Amqp, 0, new AmqpBegin
        {
            NextOutgoingId = 0,
            IncomingWindow = 1024,
            OutgoingWindow = uint.MaxValue,
        });
        if (cbs)
        {
            // No SASL: the device proves itself with a put-token on $cbs before it attaches anything else (IoT Hub's CBS).
            WriteAttach(CbsSenderHandle, CbsSenderName, AmqpRole.Sender, source: "cbs"u8, target: "$cbs"u8);
            WriteAttach(CbsReceiverHandle, CbsReceiverName, AmqpRole.Receiver, source: "$cbs"u8, target: "cbs"u8);
            AmqpFrameWriter.WriteFrame(_writer, AmqpFrameType.Amqp, 0, new AmqpFlow
            {
                NextIncomingId = 0,
                IncomingWindow = 1024,
                NextOutgoingId = 0,
                OutgoingWindow = uint.MaxValue,
                Handle = CbsReceiverHandle,
                DeliveryCount = 0,
                LinkCredit = 1,
            });
        }
        else
        {
            WriteEventsAttach();
        }

        await _writer.FlushAsync(cancellationToken).ConfigureAwait(false);

        if (await ReadProtocolHeaderAsync(cancellationToken).ConfigureAwait(false) != AmqpProtocolId.Amqp)
        {
            throw new LoadException($"{Credentials.DeviceId}: the broker did not answer the AMQP header with its own.");
        }

        // open, begin, the broker's halves of the links, the flows that grant credit (and over CBS the token's answer).
        uint? cbsSender = null;
        uint? cbsReceiver = null;
        var tokenSent = false;
        var cbsCredit = false;
        while (true)
        {
            var (descriptor, body) = await ReadFrameAsync(AmqpFrameType.Amqp, cancellationToken).ConfigureAwait(false);
            switch (descriptor)
            {
                case AmqpDescriptor.Open:
                    _remoteMaxFrameSize = Math.Max(AmqpOpen.Decode(body).MaxFrameSize ?? uint.MaxValue, AmqpFrameReader.MinMaxFrameSize);
                    break;
                case AmqpDescriptor.Begin:
                    _sessionLimit = AmqpBegin.Decode(body).IncomingWindow; // its next-incoming-id is our next-outgoing-id, 0
                    break;
                case AmqpDescriptor.Attach:
                    // The broker names a link by its own handle: match its attach to ours by name. A refused link is
                    // attached with no source or target and detached at once (the detach says why).
                    var attach = AmqpAttach.Decode(body);
                    if (attach.Name.SequenceEqual(_eventsLinkName) && attach.Target.IsPresent)
                    {
                        _remoteEventsHandle = attach.Handle;
                    }
                    else if (attach.Name.SequenceEqual(CbsSenderName) && attach.Target.IsPresent)
                    {
                        cbsSender = attach.Handle;
                    }
                    else if (attach.Name.SequenceEqual(CbsReceiverName) && attach.Source.IsPresent)
                    {
                        cbsReceiver = attach.Handle;
                    }

                    break;
                case AmqpDescriptor.Flow:
                    var flow = AmqpFlow.Decode(body);
                    ApplyFlow(flow);
                    cbsCredit |= cbsSender is { } sender && flow.Handle == sender && flow.LinkCredit > 0;
                    if (_remoteEventsHandle is not null && _creditLimit != _deliveryCount)
                    {
                        _window = new SemaphoreSlim(Options.Window, Options.Window);
                        BuildMessage();
                        _receiveLoop = Task.Run(ReceiveLoopAsync, CancellationToken.None);
                        return;
                    }

                    break;
                case AmqpDescriptor.Transfer when cbs && cbsReceiver is not null:
                    // The put-token answer: status-code 200, or the reason in status-description.
                    var transfer = AmqpTransfer.Decode(body, out var payloadOffset);
                    var (status, description) = ReadCbsStatus(body.AsSpan(payloadOffset));
                    AmqpFrameWriter.WriteFrame(_writer, AmqpFrameType.Amqp, 0, new AmqpDisposition
                    {
                        Role = AmqpRole.Receiver,
                        First = transfer.DeliveryId ?? 0,
                        Settled = true,
                        State = AmqpDeliveryState.Accepted,
                    });
                    if (status != 200)
                    {
                        throw new LoadException($"{Credentials.DeviceId}: the broker refused the CBS put-token ({status}: {description}).");
                    }

                    WriteEventsAttach();
                    await _writer.FlushAsync(cancellationToken).ConfigureAwait(false);
                    break;
                case AmqpDescriptor.Detach:
                    throw new LoadException($"{Credentials.DeviceId}: the broker refused a link ({Describe(AmqpDetach.Decode(body).Error)}).");
                case AmqpDescriptor.End:
                    throw new LoadException($"{Credentials.DeviceId}: the broker ended the session ({Describe(AmqpEnd.Decode(body).Error)}).");
                case AmqpDescriptor.Close:
                    throw new LoadException($"{Credentials.DeviceId}: the broker closed the connection ({Describe(AmqpClose.Decode(body).Error)}).");
            }

            // The put-token goes once the $cbs sender has credit and the reply link is attached, in whichever order.
            if (cbs && !tokenSent && cbsCredit && cbsReceiver is not null)
            {
                WritePutToken();
                await _writer.FlushAsync(cancellationToken).ConfigureAwait(false);
                tokenSent = true;
            }
        }
    }

    public override async Task RunAsync(RunClock clock)
    {
        _clock = clock;
        _sending = true;
        var writer = _writer ?? throw new InvalidOperationException("Not connected.");
        var window = _window!;
        var unsettled = Options.Qos == 1;
        var maxBatch = unsettled ? Options.Window : PresettledBatch;
        var framesPerMessage = FramesPerMessage();
        using var pacer = Options.Rate > 0 ? new Pacer(Options.Rate / Options.Devices, StaggeredStart(clock)) : null;
        var stop = clock.Stop;
        try
        {
            while (!stop.IsCancellationRequested && !_closing)
            {
                var count = pacer is null ? maxBatch : await pacer.NextAsync(maxBatch, stop).ConfigureAwait(false);
                if (unsettled)
                {
                    // Take one slot of the in-flight window (waiting for a disposition if need be), then whatever else is free.
                    await window.WaitAsync(stop).ConfigureAwait(false);
                    var slots = 1;
                    while (slots < count && window.Wait(0))
                    {
                        slots++;
                    }

                    count = slots;
                }

                // Link credit and the session window bound the batch too; without either, wait for the broker's flow.
                var allowed = Allowed(framesPerMessage);
                while (allowed == 0)
                {
                    await WaitForCreditAsync(framesPerMessage, stop).ConfigureAwait(false);
                    allowed = Allowed(framesPerMessage);
                }

                if (allowed < count)
                {
                    if (unsettled)
                    {
                        window.Release(count - allowed);
                    }

                    count = allowed;
                }

                var now = Stopwatch.GetTimestamp();
                for (var i = 0; i < count; i++)
                {
                    WriteMessage(writer, settled: !unsettled, now);
                }

                if (clock.InWindow(now))
                {
                    Published += count;
                }

                pacer?.Consumed(count);
                var flushed = await writer.FlushAsync(CancellationToken.None).ConfigureAwait(false);
                if (flushed.IsCompleted)
                {
                    break;
                }
            }
        }
        catch (OperationCanceledException) when (stop.IsCancellationRequested)
        {
            // The window is over.
        }
        catch (Exception e) when (e is IOException or SocketException or ObjectDisposedException or LoadException)
        {
            Failure ??= e;
        }
        finally
        {
            _sending = false;
        }
    }

    public override async Task DrainAsync(CancellationToken cancellationToken)
    {
        if (Failure is not null || _writer is null)
        {
            return;
        }

        if (Options.Qos == 1)
        {
            // Full fence before the check, against the receive loop's release-then-check.
            Interlocked.Exchange(ref _draining, 1);
            if (_window!.CurrentCount < Options.Window)
            {
                await _drained.Task.WaitAsync(cancellationToken).ConfigureAwait(false);
            }

            return;
        }

        // A broker settles a link's deliveries in order, so the disposition of one last unsettled transfer comes after
        // every earlier pre-settled one was taken in.
        var framesPerMessage = FramesPerMessage();
        while (Allowed(framesPerMessage) == 0)
        {
            await WaitForCreditAsync(framesPerMessage, cancellationToken).ConfigureAwait(false);
        }

        _fenceId = _deliveryIdBase + _deliveryCount;
        Volatile.Write(ref _fenceSent, 1);
        WriteMessage(_writer, settled: false, Stopwatch.GetTimestamp());
        await _writer.FlushAsync(cancellationToken).ConfigureAwait(false);
        await _drained.Task.WaitAsync(cancellationToken).ConfigureAwait(false);
    }

    public override async ValueTask DisposeAsync()
    {
        _closing = true;
        // The pipe has one writer: a send loop still stuck in a flush (the run timed out) gets no close behind it.
        if (_writer is not null && !_sending)
        {
            try
            {
                AmqpFrameWriter.WriteFrame(_writer, AmqpFrameType.Amqp, 0, new AmqpClose());
                using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(5));
                await _writer.FlushAsync(timeout.Token).ConfigureAwait(false);
            }
            catch (Exception e) when (e is IOException or SocketException or ObjectDisposedException or OperationCanceledException or InvalidOperationException)
            {
                // Already closed by the broker; nothing to say goodbye to.
            }

            await _writer.CompleteAsync().ConfigureAwait(false);
        }

        if (_stream is not null)
        {
            await _stream.DisposeAsync().ConfigureAwait(false);
        }

        if (_receiveLoop is not null)
        {
            await _receiveLoop.ConfigureAwait(false);
        }

        _window?.Dispose();
    }

    private static string Describe(AmqpError error)
        => error.IsPresent ? $"{Encoding.UTF8.GetString(error.Condition)}: {Encoding.UTF8.GetString(error.Description)}" : "no error given";

    private void WriteAttach(uint handle, byte[] name, AmqpRole role, ReadOnlySpan<byte> source, ReadOnlySpan<byte> target)
        => AmqpFrameWriter.WriteFrame(_writer!, AmqpFrameType.Amqp, 0, new AmqpAttach
        {
            Name = name,
            Handle = handle,
            Role = role,
            Source = new AmqpSource { IsPresent = true, Address = source },
            Target = new AmqpTarget { IsPresent = true, Address = target },
            InitialDeliveryCount = role == AmqpRole.Sender ? 0u : null,
        });

    private void WriteEventsAttach()
        => WriteAttach(Handle, _eventsLinkName, AmqpRole.Sender, Encoding.UTF8.GetBytes(Credentials.DeviceId), Encoding.UTF8.GetBytes($"/devices/{Credentials.DeviceId}/messages/events"));

    /// <summary>The CBS put-token request as IoT Hub's device SDKs send it (see sdk-wire-requirements.md §5).</summary>
    private void WritePutToken()
    {
        var token = Credentials.Password;
        var audienceStart = token.IndexOf("sr=", StringComparison.Ordinal) + 3;
        var audienceEnd = token.IndexOf('&', audienceStart);
        var audience = token[audienceStart..(audienceEnd < 0 ? token.Length : audienceEnd)];
        var message = new ArrayBufferWriter<byte>(512 + token.Length);
        var writer = new AmqpWriter(message);
        var id = Encoding.ASCII.GetBytes("put-token-" + Credentials.DeviceId);
        var messageId = new byte[2 + id.Length];
        messageId[0] = AmqpFormatCode.String8;
        messageId[1] = (byte)id.Length;
        id.CopyTo(messageId, 2);
        AmqpMessageWriter.WriteProperties(ref writer, new AmqpProperties { MessageId = messageId, To = "$cbs"u8, ReplyTo = "cbs"u8 });
        AmqpMessageWriter.BeginApplicationProperties(ref writer);
        writer.WriteString("operation"u8);
        writer.WriteString("put-token"u8);
        writer.WriteString("type"u8);
        writer.WriteString("servicebus.windows.net:sastoken"u8);
        writer.WriteString("name"u8);
        writer.WriteString(audience);
        AmqpMessageWriter.EndMapSection(ref writer);
        AmqpMessageWriter.BeginAmqpValue(ref writer);
        writer.WriteString(token);
        writer.Commit();

        // The first delivery of the session: id 0. The events link's deliveries follow it.
        Span<byte> tag = stackalloc byte[1];
        AmqpFrameWriter.WriteFrame(_writer!, AmqpFrameType.Amqp, 0, new AmqpTransfer
        {
            Handle = CbsSenderHandle,
            DeliveryId = 0,
            DeliveryTag = tag,
            MessageFormat = 0,
            Settled = false,
        }, message.WrittenSpan, sizeHint: 64 + message.WrittenCount);
        _nextOutgoingId++;
        _deliveryIdBase = 1;
    }

    private static (int Status, string Description) ReadCbsStatus(ReadOnlySpan<byte> message)
    {
        var reader = new AmqpMessageReader(message);
        while (reader.TryReadSection(out var section))
        {
            if (section.Kind != AmqpSectionKind.ApplicationProperties)
            {
                continue;
            }

            var status = AmqpMap.TryGetValue(section.Value, "status-code"u8, out var code) ? new AmqpReader(code).ReadInt() : -1;
            var description = AmqpMap.TryGetValue(section.Value, "status-description"u8, out var text) ? Encoding.UTF8.GetString(AmqpMap.GetText(text)) : "";
            return (status, description);
        }

        return (-1, "no application properties in the answer");
    }

    /// <summary>
    /// SASL PLAIN as IoT Hub takes it: <c>{deviceId}@sas.{hub name}</c>, the SAS token as the password; with
    /// <c>--no-auth</c> SASL ANONYMOUS (for AMQP brokers that allow it).
    /// </summary>
    private async Task AuthenticateAsync(CancellationToken cancellationToken)
    {
        AmqpProtocolHeader.Write(_writer!, AmqpProtocolId.Sasl);
        await _writer!.FlushAsync(cancellationToken).ConfigureAwait(false);
        if (await ReadProtocolHeaderAsync(cancellationToken).ConfigureAwait(false) != AmqpProtocolId.Sasl)
        {
            throw new LoadException($"{Credentials.DeviceId}: the broker offers no SASL layer; try --amqp-auth cbs.");
        }

        var mechanism = Options.NoAuth ? "ANONYMOUS" : "PLAIN";
        var (_, mechanisms) = await ReadFrameAsync(AmqpFrameType.Sasl, cancellationToken).ConfigureAwait(false);
        if (!AmqpSymbols.Contains(AmqpSaslMechanisms.Decode(mechanisms).Mechanisms, Encoding.ASCII.GetBytes(mechanism)))
        {
            throw new LoadException($"{Credentials.DeviceId}: the broker does not offer SASL {mechanism}{(Options.NoAuth ? "" : "; try --amqp-auth cbs")}.");
        }

        var hubName = Credentials.HubHost.Split('.')[0];
        var response = Options.NoAuth ? [] : Encoding.UTF8.GetBytes($"\0{Credentials.DeviceId}@sas.{hubName}\0{Credentials.Password}");
        AmqpFrameWriter.WriteFrame(_writer, AmqpFrameType.Sasl, 0, new AmqpSaslInit
        {
            Mechanism = Encoding.ASCII.GetBytes(mechanism),
            InitialResponse = response,
            Hostname = Encoding.UTF8.GetBytes(Credentials.HubHost),
        }, sizeHint: 256 + response.Length);
        await _writer.FlushAsync(cancellationToken).ConfigureAwait(false);

        var (descriptor, outcome) = await ReadFrameAsync(AmqpFrameType.Sasl, cancellationToken).ConfigureAwait(false);
        var code = descriptor == AmqpDescriptor.SaslOutcome ? AmqpSaslOutcome.Decode(outcome).Code : (AmqpSaslCode?)null;
        if (code != AmqpSaslCode.Ok)
        {
            throw new LoadException($"{Credentials.DeviceId}: the broker refused SASL {mechanism} ({(code is { } c ? $"sasl-outcome {c}" : "no sasl-outcome")}).");
        }
    }

    private async Task<AmqpProtocolId> ReadProtocolHeaderAsync(CancellationToken cancellationToken)
    {
        while (true)
        {
            var result = await _reader!.ReadAsync(cancellationToken).ConfigureAwait(false);
            var status = AmqpProtocolHeader.TryRead(result.Buffer, out var id, out var consumed);
            if (status == OperationStatus.Done)
            {
                _reader.AdvanceTo(consumed);
                return id;
            }

            if (status == OperationStatus.InvalidData || result.IsCompleted)
            {
                throw new LoadException($"{Credentials.DeviceId}: the broker closed the connection or sent no AMQP protocol header.");
            }

            _reader.AdvanceTo(result.Buffer.Start, result.Buffer.End);
        }
    }

    /// <summary>The next non-empty frame while connecting, copied (a few per connection).</summary>
    private async Task<(ulong Descriptor, byte[] Body)> ReadFrameAsync(AmqpFrameType expected, CancellationToken cancellationToken)
    {
        while (true)
        {
            var result = await _reader!.ReadAsync(cancellationToken).ConfigureAwait(false);
            var buffer = result.Buffer;
            var status = AmqpFrameReader.TryReadFrame(buffer, OwnMaxFrameSize, out var frame, out var consumed, out var error);
            if (status == OperationStatus.Done)
            {
                var body = frame.Body.ToArray();
                var type = frame.Type;
                _reader.AdvanceTo(consumed);
                if (body.Length == 0)
                {
                    continue; // a heartbeat
                }

                if (type != expected)
                {
                    throw new LoadException($"{Credentials.DeviceId}: a {type} frame where a {expected} frame was expected.");
                }

                return (AmqpPerformativeBody.PeekDescriptor(body), body);
            }

            if (status == OperationStatus.InvalidData)
            {
                throw new LoadException($"{Credentials.DeviceId}: malformed frame from the broker ({error}).");
            }

            if (result.IsCompleted)
            {
                throw new LoadException($"{Credentials.DeviceId}: the broker closed the connection while it was being set up.");
            }

            _reader.AdvanceTo(buffer.Start, buffer.End);
        }
    }

    /// <summary>Encodes the data section once, behind room for the per-message head.</summary>
    private void BuildMessage()
    {
        var data = new ArrayBufferWriter<byte>(Payload.Length + 16);
        var writer = new AmqpWriter(data);
        AmqpMessageWriter.WriteData(ref writer, Payload);
        writer.Commit();
        _message = new byte[HeadRoom + data.WrittenCount];
        _dataOffset = HeadRoom;
        data.WrittenSpan.CopyTo(_message.AsSpan(_dataOffset));
    }

    /// <summary>Transfer frames one message needs within the broker's max-frame-size.</summary>
    private int FramesPerMessage()
    {
        var perFrame = (long)_remoteMaxFrameSize - AmqpFrameReader.HeaderSize - TransferOverhead;
        return (int)((_message.Length + perFrame - 1) / perFrame);
    }

    /// <summary>Messages the link credit and the session window allow now.</summary>
    private int Allowed(int framesPerMessage)
    {
        var credit = (int)Math.Min(Volatile.Read(ref _creditLimit) - _deliveryCount, int.MaxValue);
        var frames = (int)Math.Min(Volatile.Read(ref _sessionLimit) - _nextOutgoingId, int.MaxValue);
        return Math.Max(0, Math.Min(credit, frames / framesPerMessage));
    }

    private async Task WaitForCreditAsync(int framesPerMessage, CancellationToken cancellationToken)
    {
        var waiter = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        Volatile.Write(ref _creditWaiter, waiter);
        if (Allowed(framesPerMessage) > 0 || _closing)
        {
            return;
        }

        await waiter.Task.WaitAsync(cancellationToken).ConfigureAwait(false);
        if (_closing)
        {
            throw new LoadException($"{Credentials.DeviceId}: the broker closed the connection.");
        }
    }

    /// <summary>Writes one message: its head in front of the encoded data section, in as many transfer frames as it takes.</summary>
    private void WriteMessage(PipeWriter writer, bool settled, long now)
    {
        var deliveryId = _deliveryIdBase + _deliveryCount;
        var sequence = ++_sequence;

        // message-id "{deviceId}-{n}" (a string) and two application properties, as a device SDK sends them.
        Span<byte> messageId = _idScratch;
        _messageIdPrefix.CopyTo(messageId[2..]);
        Utf8Formatter.TryFormat(sequence, messageId[(2 + _messageIdPrefix.Length)..], out var digits);
        var idLength = _messageIdPrefix.Length + digits;
        messageId[0] = AmqpFormatCode.String8;
        messageId[1] = (byte)idLength;
        var head = new AmqpWriter(_headScratch);
        AmqpMessageWriter.WriteProperties(ref head, new AmqpProperties { MessageId = messageId[..(2 + idLength)] });
        AmqpMessageWriter.BeginApplicationProperties(ref head);
        head.WriteString("source"u8);
        head.WriteString("broker-load"u8);
        head.WriteString("sequence"u8);
        Span<byte> sequenceText = stackalloc byte[20];
        Utf8Formatter.TryFormat(sequence, sequenceText, out var sequenceLength);
        head.WriteString(sequenceText[..sequenceLength]);
        AmqpMessageWriter.EndMapSection(ref head);
        var headBytes = head.WrittenSpan;
        var start = _dataOffset - headBytes.Length;
        headBytes.CopyTo(_message.AsSpan(start));
        ReadOnlySpan<byte> message = _message.AsSpan(start);

        Span<byte> tag = stackalloc byte[4];
        System.Buffers.Binary.BinaryPrimitives.WriteUInt32BigEndian(tag, deliveryId);
        _sentAt[deliveryId & 0xFFFF] = now;
        var perFrame = (int)Math.Min(int.MaxValue, _remoteMaxFrameSize - AmqpFrameReader.HeaderSize - TransferOverhead);
        var first = true;
        while (true)
        {
            var chunk = Math.Min(perFrame, message.Length);
            var more = chunk < message.Length;
            AmqpFrameWriter.WriteFrame(writer, AmqpFrameType.Amqp, 0, new AmqpTransfer
            {
                Handle = Handle,
                DeliveryId = first ? deliveryId : null,
                DeliveryTag = first ? tag : default,
                MessageFormat = first ? 0u : null,
                Settled = first ? settled : null,
                More = more,
            }, message[..chunk]);
            _nextOutgoingId++;
            message = message[chunk..];
            first = false;
            if (!more)
            {
                break;
            }
        }

        _deliveryCount++;
    }

    private void ApplyFlow(in AmqpFlow flow)
    {
        // The session window: the broker takes transfers up to next-incoming-id + incoming-window.
        Volatile.Write(ref _sessionLimit, (flow.NextIncomingId ?? 0) + flow.IncomingWindow);
        if (flow.Handle is { } handle && handle == _remoteEventsHandle && flow.LinkCredit is { } credit)
        {
            // Link credit (§2.6.7): deliveries allowed up to the receiver's delivery-count + link-credit.
            Volatile.Write(ref _creditLimit, (flow.DeliveryCount ?? 0) + credit);
        }

        Interlocked.Exchange(ref _creditWaiter, null)?.TrySetResult();
    }

    private async Task ReceiveLoopAsync()
    {
        var reader = _reader!;
        try
        {
            while (true)
            {
                var result = await reader.ReadAsync().ConfigureAwait(false);
                var buffer = result.Buffer;
                buffer = ProcessFrames(buffer);

                reader.AdvanceTo(buffer.Start, buffer.End);
                if (result.IsCompleted)
                {
                    break;
                }
            }

            if (!_closing)
            {
                Failure ??= new LoadException($"{Credentials.DeviceId}: the broker closed the connection.");
            }
        }
        catch (Exception e) when (e is IOException or SocketException or ObjectDisposedException or LoadException or InvalidOperationException or AmqpDecodeException)
        {
            if (!_closing)
            {
                Failure ??= e;
            }
        }
        finally
        {
            _closing = true;
            _drained.TrySetResult();
            Interlocked.Exchange(ref _creditWaiter, null)?.TrySetResult();
            await reader.CompleteAsync().ConfigureAwait(false);
        }
    }

    /// <summary>Handles every whole frame in <paramref name="buffer"/>; returns what is left of it.</summary>
    private ReadOnlySequence<byte> ProcessFrames(ReadOnlySequence<byte> buffer)
    {
        while (true)
        {
            var status = AmqpFrameReader.TryReadFrame(buffer, OwnMaxFrameSize, out var frame, out var consumed, out var error);
            if (status == OperationStatus.NeedMoreData)
            {
                return buffer;
            }

            if (status == OperationStatus.InvalidData)
            {
                throw new LoadException($"{Credentials.DeviceId}: malformed frame from the broker ({error}).");
            }

            if (!frame.IsEmpty)
            {
                using var body = new AmqpContiguousBuffer(frame.Body);
                OnFrame(body.Span);
            }

            buffer = buffer.Slice(consumed);
        }
    }

    private void OnFrame(ReadOnlySpan<byte> body)
    {
        switch (AmqpPerformativeBody.PeekDescriptor(body))
        {
            case AmqpDescriptor.Disposition:
                var disposition = AmqpDisposition.Decode(body);
                if (disposition.Role != AmqpRole.Receiver)
                {
                    break;
                }

                if (disposition.State.Kind != AmqpDeliveryStateKind.Accepted)
                {
                    Failure ??= new LoadException($"{Credentials.DeviceId}: the broker settled a message with {disposition.State.Kind} ({Describe(disposition.State.Error)}).");
                }

                Settle(disposition.First, disposition.EffectiveLast);
                break;
            case AmqpDescriptor.Flow:
                ApplyFlow(AmqpFlow.Decode(body));
                break;
            case AmqpDescriptor.Detach:
                throw new LoadException($"{Credentials.DeviceId}: the broker detached the events link ({Describe(AmqpDetach.Decode(body).Error)}).");
            case AmqpDescriptor.End:
                throw new LoadException($"{Credentials.DeviceId}: the broker ended the session ({Describe(AmqpEnd.Decode(body).Error)}).");
            case AmqpDescriptor.Close:
                if (!_closing)
                {
                    throw new LoadException($"{Credentials.DeviceId}: the broker closed the connection ({Describe(AmqpClose.Decode(body).Error)}).");
                }

                break;
            default:
                // Nothing else is expected on a send-only connection; ignore it rather than guess.
                break;
        }
    }

    private void Settle(uint first, uint last)
    {
        if (Options.Qos == 0)
        {
            // Only the fence is unsettled.
            if (Volatile.Read(ref _fenceSent) == 1 && unchecked(_fenceId - first) <= unchecked(last - first))
            {
                _drained.TrySetResult();
            }

            return;
        }

        var now = Stopwatch.GetTimestamp();
        var clock = _clock;
        var count = (int)Math.Min(unchecked(last - first) + 1, int.MaxValue);
        var inWindow = clock is not null && clock.InWindow(now);
        for (var i = 0; i < count; i++)
        {
            if (inWindow)
            {
                // Throughput counts every disposition in the window; latency only messages that were also sent in it.
                Acknowledged++;
                var sentAt = _sentAt[unchecked(first + (uint)i) & 0xFFFF];
                if (clock!.InWindow(sentAt))
                {
                    Latency.Record(RunClock.ToNanoseconds(now - sentAt));
                }
            }
        }

        _window!.Release(count);
        if (Volatile.Read(ref _draining) == 1 && _window.CurrentCount == Options.Window)
        {
            _drained.TrySetResult();
        }
    }
}
