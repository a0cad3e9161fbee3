using System.Buffers;
using System.IO.Pipelines;
using System.Text;
using Broker.Protocols.Amqp.Codec;
using Microsoft.AspNetCore.Connections;
using Microsoft.AspNetCore.Connections.Features;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.Logging;

namespace Broker.Protocols.Amqp.Server;

/// <summary>
/// The protocol-neutral AMQP 1.0 engine for one connection: protocol header and SASL negotiation, open (frame size,
/// idle timeout), sessions and their windows, links and their credit, transfers (assembled across frames),
/// dispositions, detach/end/close. One read loop parses frames in place; one outbox writes everything. Every
/// protocol violation closes the connection with an AMQP error. Link semantics belong to <see cref="IAmqpLinkHandler"/>.
/// </summary>
public sealed class AmqpConnection
{
    private const int TransferOverhead = 96; // frame header + the largest transfer performative this engine writes

    private readonly ConnectionContext _connection;
    private readonly AmqpServerOptions _options;
    private readonly IAmqpSaslAuthenticator? _authenticator;
    private readonly IAmqpLinkHandler _links;
    private readonly AmqpConnectionMonitor _monitor;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly AmqpOutbox _outbox;
    private readonly CancellationTokenSource _aborted = new();
    private readonly Lock _lock = new();

    // The deliveries one disposition settles; reused, as dispositions are handled one at a time by the read loop.
    private readonly List<(AmqpLink Link, uint DeliveryId)> _settledByDisposition = [];
    private readonly Dictionary<ushort, AmqpSession> _sessions = [];
    private readonly byte[] _containerId;
    private readonly long _startedAt;
    private State _state;
    private bool _openSent;
    private bool _stopReading;
    private uint _inputLimit = AmqpFrameReader.MinMaxFrameSize;
    private uint _peerMaxFrameSize = AmqpFrameReader.MinMaxFrameSize;
    private long _peerIdleTicks;
    private long _lastRead;
    private AmqpSaslRequest? _pendingSasl;
    private AmqpLink? _pendingAttach;
    private string _closeReason = "transport closed";

    internal AmqpConnection(ConnectionContext connection, ITlsConnectionFeature? tls, AmqpServerOptions options, IAmqpSaslAuthenticator? authenticator,
        IAmqpLinkHandler links, AmqpConnectionMonitor monitor, TimeProvider time, ILogger logger)
    {
        _connection = connection;
        _options = options;
        _authenticator = authenticator;
        _links = links;
        _monitor = monitor;
        _time = time;
        _logger = logger;
        _outbox = new AmqpOutbox(connection.Transport.Output, time);
        _containerId = Encoding.UTF8.GetBytes(options.ContainerId);
        _startedAt = time.GetTimestamp();
        _lastRead = _startedAt;
        Info = new AmqpConnectionInfo(connection.RemoteEndPoint?.ToString() ?? connection.ConnectionId, tls?.ClientCertificate);
    }

    private enum State : byte
    {
        AwaitHeader,
        Sasl,
        AwaitAmqpHeader,
        AwaitOpen,
        Opened,
        Closed,
    }

    /// <summary>The connection's identity and peer.</summary>
    public AmqpConnectionInfo Info { get; }

    /// <summary>The error condition this side closed the connection with, if it did.</summary>
    public string? CloseCondition { get; private set; }

    internal async Task RunAsync()
    {
        Task writer = _outbox.RunAsync(_aborted.Token);
        _monitor.Add(this);

        // Kestrel asks connections to close when the host stops: say so in AMQP rather than wait to be aborted.
        using CancellationTokenRegistration shutdown = _connection.Features.Get<IConnectionLifetimeNotificationFeature>()?.ConnectionClosedRequested
            .Register(static state => ((AmqpConnection)state!).Shutdown(), this) ?? default;
        try
        {
            await ReadLoopAsync().ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is OperationCanceledException or ConnectionResetException or ConnectionAbortedException or IOException)
        {
            // the peer went away or the connection was aborted
        }
        catch (Exception ex)
        {
            AmqpLog.Failed(_logger, ex, Info.RemoteEndPoint);
        }
        finally
        {
            _monitor.Remove(this);
            DetachAll();
            try
            {
                _links.OnConnectionClosed(Info);
            }
            catch (Exception ex)
            {
                AmqpLog.CallbackFailed(_logger, ex, Info.RemoteEndPoint);
            }

            _outbox.Complete();
            try
            {
                await writer.ConfigureAwait(false);
            }
            catch (Exception ex) when (ex is OperationCanceledException or ConnectionResetException or ConnectionAbortedException or IOException or InvalidOperationException)
            {
            }

            AmqpLog.Closed(_logger, Info.RemoteEndPoint, _closeReason);
            await _connection.Transport.Input.CompleteAsync().ConfigureAwait(false);
            await _connection.Transport.Output.CompleteAsync().ConfigureAwait(false);
            _aborted.Dispose();
        }
    }

    private async Task ReadLoopAsync()
    {
        PipeReader input = _connection.Transport.Input;
        while (true)
        {
            ReadResult result = await input.ReadAsync(_aborted.Token).ConfigureAwait(false);
            ReadOnlySequence<byte> buffer = result.Buffer;
            SequencePosition consumed = buffer.Start;
            try
            {
                while (!Volatile.Read(ref _stopReading))
                {
                    SequencePosition end;
                    if (_state is State.AwaitHeader or State.AwaitAmqpHeader)
                    {
                        OperationStatus headerStatus = AmqpProtocolHeader.TryRead(buffer, out AmqpProtocolId id, out end);
                        if (headerStatus == OperationStatus.NeedMoreData)
                        {
                            break;
                        }

                        buffer = buffer.Slice(end);
                        consumed = end;
                        OnProtocolHeader(headerStatus == OperationStatus.Done ? id : null);
                        continue;
                    }

                    OperationStatus status = AmqpFrameReader.TryReadFrame(buffer, _inputLimit, out AmqpFrame frame, out end, out AmqpDecodeError error);
                    if (status == OperationStatus.NeedMoreData)
                    {
                        break;
                    }

                    if (status != OperationStatus.Done)
                    {
                        CloseWithError(Encoding.ASCII.GetString(error.GetCondition()), error.GetDescription());
                        return;
                    }

                    Volatile.Write(ref _lastRead, _time.GetTimestamp());
                    await HandleFrameAsync(frame).ConfigureAwait(false);
                    buffer = buffer.Slice(end);
                    consumed = end;
                }

                if (Volatile.Read(ref _stopReading) || result.IsCompleted || result.IsCanceled)
                {
                    return;
                }
            }
            finally
            {
                input.AdvanceTo(consumed, buffer.End);
            }
        }
    }

    private void OnProtocolHeader(AmqpProtocolId? id)
    {
        bool saslOffered = _authenticator is not null && _options.SaslMechanisms.Count > 0;
        switch (_state, id)
        {
            case (State.AwaitHeader, AmqpProtocolId.Sasl) when saslOffered:
                using (AmqpOutbox.Scope scope = _outbox.Begin())
                {
                    AmqpProtocolHeader.Write(scope.Writer, AmqpProtocolId.Sasl);
                    byte[] mechanisms = EncodeMechanisms();
                    AmqpFrameWriter.WriteFrame(scope.Writer, AmqpFrameType.Sasl, 0, new AmqpSaslMechanisms { Mechanisms = mechanisms });
                }

                _state = State.Sasl;
                return;
            case (State.AwaitHeader, AmqpProtocolId.Amqp) when _options.AllowNoSasl:
            case (State.AwaitAmqpHeader, AmqpProtocolId.Amqp):
                WriteHeader(AmqpProtocolId.Amqp);
                _state = State.AwaitOpen;
                return;
            default:
                // §2.2: answer with the header this side would accept, then close the socket.
                WriteHeader(_state == State.AwaitHeader && saslOffered && !_options.AllowNoSasl ? AmqpProtocolId.Sasl : AmqpProtocolId.Amqp);
                Stop("unsupported protocol header");
                return;
        }
    }

    private async ValueTask HandleFrameAsync(AmqpFrame frame)
    {
        try
        {
            HandleFrame(frame);
            if (_pendingSasl is { } sasl)
            {
                _pendingSasl = null;
                await AuthenticateAsync(sasl).ConfigureAwait(false);
            }
            else if (_pendingAttach is { } link)
            {
                _pendingAttach = null;
                AmqpLinkDecision decision;
                try
                {
                    decision = await _links.OnAttachAsync(link, _aborted.Token).ConfigureAwait(false);
                }
                catch (Exception ex) when (ex is not OperationCanceledException)
                {
                    AmqpLog.CallbackFailed(_logger, ex, Info.RemoteEndPoint);
                    decision = AmqpLinkDecision.Refuse("amqp:internal-error", "The link could not be attached.");
                }

                CompleteAttach(link, decision);
            }
        }
        catch (AmqpDecodeException ex)
        {
            CloseWithError(Encoding.ASCII.GetString(ex.Condition), ex.Message);
        }
        catch (AmqpConnectionException ex)
        {
            CloseWithError(ex.Condition, ex.Message);
        }
    }

    private void HandleFrame(in AmqpFrame frame)
    {
        if (frame.IsEmpty)
        {
            return; // a heartbeat: its arrival already counted as activity
        }

        if (frame.Type == AmqpFrameType.Sasl)
        {
            if (_state != State.Sasl)
            {
                throw new AmqpConnectionException("amqp:not-allowed", "A SASL frame outside the SASL exchange.");
            }

            using var saslBody = new AmqpContiguousBuffer(frame.Body);
            if (AmqpPerformativeBody.PeekDescriptor(saslBody.Span) != AmqpDescriptor.SaslInit)
            {
                throw new AmqpConnectionException("amqp:not-allowed", "Expected sasl-init.");
            }

            AmqpSaslInit init = AmqpSaslInit.Decode(saslBody.Span);
            _pendingSasl = new AmqpSaslRequest(Encoding.ASCII.GetString(init.Mechanism), init.InitialResponse.ToArray(),
                init.Hostname.IsEmpty ? null : Encoding.UTF8.GetString(init.Hostname), Info.ClientCertificate);
            return;
        }

        if (_state is not (State.AwaitOpen or State.Opened))
        {
            throw new AmqpConnectionException("amqp:not-allowed", "An AMQP frame during the SASL exchange.");
        }

        ulong descriptor = PeekDescriptor(frame.Body);
        if (_state == State.AwaitOpen && descriptor != AmqpDescriptor.Open)
        {
            throw new AmqpConnectionException("amqp:not-allowed", "The first frame must be open.");
        }

        if (descriptor == AmqpDescriptor.Transfer)
        {
            OnTransfer(GetSession(frame.Channel), frame);
            return;
        }

        using var body = new AmqpContiguousBuffer(frame.Body);
        ReadOnlySpan<byte> span = body.Span;
        switch (descriptor)
        {
            case AmqpDescriptor.Open when _state == State.AwaitOpen:
                OnOpen(span);
                break;
            case AmqpDescriptor.Begin:
                OnBegin(frame.Channel, span);
                break;
            case AmqpDescriptor.Attach:
                OnAttach(GetSession(frame.Channel), span);
                break;
            case AmqpDescriptor.Flow:
                OnFlow(GetSession(frame.Channel), span);
                break;
            case AmqpDescriptor.Disposition:
                OnDisposition(GetSession(frame.Channel), span);
                break;
            case AmqpDescriptor.Detach:
                OnDetach(GetSession(frame.Channel), span);
                break;
            case AmqpDescriptor.End:
                OnEnd(frame.Channel, span);
                break;
            case AmqpDescriptor.Close:
                AmqpClose close = AmqpClose.Decode(span);
                WriteFrame(0, new AmqpClose());
                Stop(close.Error.IsPresent ? $"peer closed with {Encoding.ASCII.GetString(close.Error.Condition)}" : "peer closed");
                break;
            default:
                throw new AmqpConnectionException("amqp:not-allowed", $"Unexpected performative 0x{descriptor:X2}.");
        }
    }

    private static ulong PeekDescriptor(in ReadOnlySequence<byte> body)
    {
        ReadOnlySpan<byte> first = body.FirstSpan;
        if (first.Length >= 16 || body.IsSingleSegment)
        {
            return AmqpPerformativeBody.PeekDescriptor(first);
        }

        Span<byte> head = stackalloc byte[(int)Math.Min(body.Length, 300)];
        body.Slice(0, head.Length).CopyTo(head);
        return AmqpPerformativeBody.PeekDescriptor(head);
    }

    private async ValueTask AuthenticateAsync(AmqpSaslRequest request)
    {
        string? identity = null;
        if (_options.SaslMechanisms.Contains(request.Mechanism) && _authenticator is not null)
        {
            identity = await _authenticator.AuthenticateAsync(request, Info, _aborted.Token).ConfigureAwait(false);
        }

        using (AmqpOutbox.Scope scope = _outbox.Begin())
        {
            AmqpFrameWriter.WriteFrame(scope.Writer, AmqpFrameType.Sasl, 0, new AmqpSaslOutcome { Code = identity is null ? AmqpSaslCode.Auth : AmqpSaslCode.Ok });
        }

        if (identity is null)
        {
            AmqpLog.SaslRefused(_logger, Info.RemoteEndPoint, request.Mechanism);
            Stop("SASL refused");
            return;
        }

        Info.SaslMechanism = request.Mechanism;
        Info.SaslIdentity = identity;
        _state = State.AwaitAmqpHeader;
    }

    private void OnOpen(ReadOnlySpan<byte> body)
    {
        AmqpOpen open = AmqpOpen.Decode(body);
        Info.ContainerId = Encoding.UTF8.GetString(open.ContainerId);
        Info.Hostname = open.Hostname.IsEmpty ? null : Encoding.UTF8.GetString(open.Hostname);
        _peerMaxFrameSize = Math.Clamp(open.MaxFrameSize ?? uint.MaxValue, AmqpFrameReader.MinMaxFrameSize, (uint)int.MaxValue);
        _peerIdleTicks = open.IdleTimeOut is > 0 and { } ms ? (long)(ms / 1000.0 * _time.TimestampFrequency) : 0;
        SendOpen();
        _inputLimit = _options.MaxFrameSize;
        _state = State.Opened;
    }

    private void SendOpen()
    {
        uint idle = (uint)Math.Min(_options.IdleTimeout.TotalMilliseconds, uint.MaxValue);
        WriteFrame(0, new AmqpOpen
        {
            ContainerId = _containerId,
            MaxFrameSize = _options.MaxFrameSize,
            ChannelMax = _options.ChannelMax,
            IdleTimeOut = idle == 0 ? null : idle,
        });
        _openSent = true;
    }

    private void OnBegin(ushort channel, ReadOnlySpan<byte> body)
    {
        AmqpBegin begin = AmqpBegin.Decode(body);
        if (begin.RemoteChannel is not null)
        {
            throw new AmqpConnectionException("amqp:not-allowed", "This side does not begin sessions.");
        }

        if (channel > _options.ChannelMax)
        {
            throw new AmqpConnectionException("amqp:not-allowed", $"Channel {channel} is above channel-max.");
        }

        lock (_lock)
        {
            if (_sessions.ContainsKey(channel))
            {
                throw new AmqpConnectionException("amqp:not-allowed", $"Channel {channel} is already in use.");
            }

            var session = new AmqpSession(channel)
            {
                NextIncomingId = begin.NextOutgoingId,
                IncomingWindow = _options.SessionWindow,
                RemoteIncomingWindow = begin.IncomingWindow,
            };
            _sessions.Add(channel, session);
            WriteFrame(channel, new AmqpBegin
            {
                RemoteChannel = channel,
                NextOutgoingId = session.NextOutgoingId,
                IncomingWindow = session.IncomingWindow,
                OutgoingWindow = _options.SessionWindow,
                HandleMax = _options.HandleMax,
            });
        }
    }

    private void OnEnd(ushort channel, ReadOnlySpan<byte> body)
    {
        AmqpEnd.Decode(body);
        AmqpSession session = GetSession(channel);
        List<AmqpLink> links;
        lock (_lock)
        {
            _sessions.Remove(channel);
            links = [.. session.Links.Values];
            foreach (AmqpLink link in links)
            {
                link.State = AmqpLink.LinkState.Detached;
            }

            WriteFrame(channel, new AmqpEnd());
        }

        foreach (AmqpLink link in links)
        {
            Notify(link, static l => l.Endpoint?.OnDetached(l));
        }
    }

    private void OnAttach(AmqpSession session, ReadOnlySpan<byte> body)
    {
        AmqpAttach attach = AmqpAttach.Decode(body);
        if (attach.Handle > _options.HandleMax)
        {
            throw new AmqpConnectionException("amqp:not-allowed", $"Handle {attach.Handle} is above handle-max.");
        }

        AmqpRole role = attach.Role == AmqpRole.Sender ? AmqpRole.Receiver : AmqpRole.Sender;
        var link = new AmqpLink(this, session, attach.Handle, Encoding.UTF8.GetString(attach.Name), role)
        {
            SourceAddress = attach.Source.IsPresent && !attach.Source.Address.IsEmpty ? Encoding.UTF8.GetString(attach.Source.Address) : null,
            TargetAddress = attach.Target.IsPresent && !attach.Target.Address.IsEmpty ? Encoding.UTF8.GetString(attach.Target.Address) : null,
            SndSettleMode = attach.EffectiveSndSettleMode,
            RcvSettleMode = attach.EffectiveRcvSettleMode,
            Properties = attach.Properties.ToArray(),
            PeerMaxMessageSize = attach.MaxMessageSize is 0 ? null : attach.MaxMessageSize,
            DeliveryCount = role == AmqpRole.Receiver ? attach.InitialDeliveryCount ?? 0 : 0,
            SourceEncoded = EncodeSource(attach.Source),
            TargetEncoded = EncodeTarget(attach.Target),
        };
        lock (_lock)
        {
            if (!session.Links.TryAdd(attach.Handle, link))
            {
                throw new AmqpConnectionException("amqp:session:handle-in-use", $"Handle {attach.Handle} is in use.");
            }
        }

        _pendingAttach = link;
    }

    private void CompleteAttach(AmqpLink link, AmqpLinkDecision decision)
    {
        AmqpSession session = link.Session;
        lock (_lock)
        {
            if (_state != State.Opened || !_sessions.ContainsKey(session.Channel))
            {
                return;
            }

            bool accepted = decision.Endpoint is not null;
            byte[] name = Encoding.UTF8.GetBytes(link.Name);
            var reply = new AmqpAttach
            {
                Name = name,
                Handle = link.Handle,
                Role = link.Role,
                SndSettleMode = link.SndSettleMode,
                RcvSettleMode = link.RcvSettleMode,
                // A refused link answers with a null terminus on this side (§2.6.3).
                Source = link.Role == AmqpRole.Sender && !accepted ? default : DecodeSource(link.SourceEncoded),
                Target = link.Role == AmqpRole.Receiver && !accepted ? default : DecodeTarget(link.TargetEncoded),
                InitialDeliveryCount = link.Role == AmqpRole.Sender ? 0 : null,
                MaxMessageSize = _options.MaxMessageSize,
            };
            WriteFrame(session.Channel, reply);
            if (!accepted)
            {
                // The link stays known until the peer's detach answers this one.
                link.State = AmqpLink.LinkState.DetachSent;
                byte[] condition = Encoding.ASCII.GetBytes(decision.Condition ?? "amqp:not-allowed");
                byte[] description = Encoding.UTF8.GetBytes(decision.Description ?? string.Empty);
                WriteFrame(session.Channel, new AmqpDetach { Handle = link.Handle, Closed = true, Error = new AmqpError(condition, description) });
                return;
            }

            link.Endpoint = decision.Endpoint;
            link.State = AmqpLink.LinkState.Attached;
            if (link.Role == AmqpRole.Receiver)
            {
                if (link.AutoCredit)
                {
                    link.LinkCredit = _options.LinkCredit;
                }

                WriteLinkFlow(session, link);
            }
        }
    }

    private void OnFlow(AmqpSession session, ReadOnlySpan<byte> body)
    {
        AmqpFlow flow = AmqpFlow.Decode(body);
        AmqpLink? creditedLink = null;
        lock (_lock)
        {
            // §2.5.6: the peer's incoming window, seen from this side's next-outgoing-id.
            session.RemoteIncomingWindow = flow.NextIncomingId is { } nextIncoming
                ? unchecked(nextIncoming + flow.IncomingWindow - session.NextOutgoingId)
                : flow.IncomingWindow;
            AmqpLink? link = null;
            if (flow.Handle is { } handle)
            {
                if (!session.Links.TryGetValue(handle, out link))
                {
                    throw new AmqpConnectionException("amqp:session:unattached-handle", $"Handle {handle} is not attached.");
                }

                if (link.Role == AmqpRole.Sender && link.State == AmqpLink.LinkState.Attached)
                {
                    // §2.6.7: credit = the receiver's delivery-count + link-credit - this side's delivery-count.
                    uint receiverCount = flow.DeliveryCount ?? 0;
                    link.LinkCredit = unchecked(receiverCount + (flow.LinkCredit ?? 0) - link.DeliveryCount);
                    link.Drain = flow.Drain ?? false;
                    creditedLink = link;
                }
            }

            if (flow.Echo == true)
            {
                WriteFlow(session, link);
            }
        }

        if (creditedLink is not null)
        {
            Notify(creditedLink, static l => l.Endpoint?.OnCredit(l));
            lock (_lock)
            {
                if (creditedLink.Drain && creditedLink.LinkCredit > 0 && creditedLink.State == AmqpLink.LinkState.Attached)
                {
                    // Nothing more to send: use up the credit and say so (§2.6.7 drain).
                    creditedLink.DeliveryCount = unchecked(creditedLink.DeliveryCount + creditedLink.LinkCredit);
                    creditedLink.LinkCredit = 0;
                    WriteLinkFlow(session, creditedLink);
                }
            }
        }
    }

    private void OnTransfer(AmqpSession session, in AmqpFrame frame)
    {
        Span<byte> scratch = stackalloc byte[AmqpTransfer.ScratchSize];
        AmqpTransfer transfer = AmqpTransfer.Decode(frame.Body, scratch, out ReadOnlySequence<byte> payload);
        AmqpLink? link;
        lock (_lock)
        {
            if (session.IncomingWindow == 0)
            {
                throw new AmqpConnectionException("amqp:session:window-violation", "A transfer beyond the session's incoming window.");
            }

            session.IncomingWindow--;
            session.NextIncomingId++;
            if (!session.Links.TryGetValue(transfer.Handle, out link) || link.State == AmqpLink.LinkState.Attaching)
            {
                throw new AmqpConnectionException("amqp:session:unattached-handle", $"Handle {transfer.Handle} is not attached.");
            }

            if (session.IncomingWindow <= _options.SessionWindow / 2)
            {
                session.IncomingWindow = _options.SessionWindow;
                WriteFlow(session, null);
            }
        }

        if (link.Role != AmqpRole.Receiver)
        {
            throw new AmqpConnectionException("amqp:not-allowed", "A transfer on a link this side sends on.");
        }

        if (link.State != AmqpLink.LinkState.Attached)
        {
            return; // in flight while this side detaches
        }

        if (!link.Assembling)
        {
            if (transfer.DeliveryId is not { } deliveryId)
            {
                throw new AmqpConnectionException("amqp:invalid-field", "The first transfer of a delivery has no delivery-id.");
            }

            lock (_lock)
            {
                if (link.LinkCredit == 0)
                {
                    throw new AmqpConnectionException("amqp:link:transfer-limit-exceeded", "A transfer without link credit.");
                }

                link.LinkCredit--;
                link.DeliveryCount++;
            }

            link.Current = new AmqpIncomingDelivery(deliveryId, transfer.Settled ?? false, transfer.MessageFormat ?? AmqpMessageFormat.Standard);
        }

        if (transfer.Aborted)
        {
            link.Assembling = false;
            link.Assembly?.ResetWrittenCount();
            return;
        }

        long size = (link.Assembling ? link.Assembly!.WrittenCount : 0) + payload.Length;
        if ((ulong)size > _options.MaxMessageSize)
        {
            link.Assembling = false;
            link.Assembly?.ResetWrittenCount();
            DetachLocal(link, "amqp:link:message-size-exceeded", $"The message exceeds {_options.MaxMessageSize} bytes.");
            return;
        }

        if (transfer.More || link.Assembling)
        {
            link.Assembly ??= new ArrayBufferWriter<byte>();
            foreach (ReadOnlyMemory<byte> segment in payload)
            {
                link.Assembly.Write(segment.Span);
            }

            if (transfer.More)
            {
                link.Assembling = true;
                return;
            }

            link.Assembling = false;
            Deliver(link, new ReadOnlySequence<byte>(link.Assembly.WrittenMemory));
            link.Assembly.ResetWrittenCount();
        }
        else
        {
            Deliver(link, payload);
        }

        lock (_lock)
        {
            if (link.AutoCredit && link.State == AmqpLink.LinkState.Attached && link.LinkCredit <= _options.LinkCredit / 2)
            {
                link.LinkCredit = _options.LinkCredit;
                WriteLinkFlow(session, link);
            }
        }
    }

    private void Deliver(AmqpLink link, in ReadOnlySequence<byte> message)
    {
        try
        {
            link.Endpoint?.OnMessage(link, link.Current, message);
        }
        catch (Exception ex)
        {
            AmqpLog.CallbackFailed(_logger, ex, Info.RemoteEndPoint);
            if (!link.Current.Settled)
            {
                Settle(link, link.Current.DeliveryId, AmqpOutcome.Rejected("amqp:internal-error", "The message could not be handled."));
            }
        }
    }

    private void OnDisposition(AmqpSession session, ReadOnlySpan<byte> body)
    {
        AmqpDisposition disposition = AmqpDisposition.Decode(body);
        if (disposition.Role == AmqpRole.Sender)
        {
            return; // the peer settling deliveries it sent: this side settles first, nothing is pending
        }

        if (disposition.State.Kind == AmqpDeliveryStateKind.Received && disposition.Settled != true)
        {
            return; // progress of a partly received delivery, not an outcome
        }

        AmqpOutcome outcome = ToOutcome(disposition.State);
        var settled = _settledByDisposition;
        settled.Clear();
        lock (_lock)
        {
            uint first = disposition.First;
            uint last = disposition.EffectiveLast;
            if (unchecked(last - first) < (uint)session.UnsettledOutgoing.Count)
            {
                for (uint id = first; ; id++)
                {
                    if (session.UnsettledOutgoing.Remove(id, out AmqpLink? link))
                    {
                        settled.Add((link, id));
                    }

                    if (id == last)
                    {
                        break;
                    }
                }
            }
            else
            {
                foreach (uint id in session.UnsettledOutgoing.Keys.ToArray())
                {
                    if (unchecked(id - first) <= unchecked(last - first) && session.UnsettledOutgoing.Remove(id, out AmqpLink? link))
                    {
                        settled.Add((link, id));
                    }
                }
            }

            if (disposition.Settled != true && settled.Count > 0)
            {
                // The receiver settles second (rcv-settle-mode second): this side settles now, with the outcome it
                // applies (Microsoft.Azure.Amqp's DisposeMessageAsync completes only on a disposition with a state).
                WriteFrame(session.Channel, new AmqpDisposition { Role = AmqpRole.Sender, First = first, Last = last, Settled = true, State = disposition.State });
            }
        }

        foreach ((AmqpLink link, uint id) in settled)
        {
            try
            {
                link.Endpoint?.OnOutcome(link, id, outcome);
            }
            catch (Exception ex)
            {
                AmqpLog.CallbackFailed(_logger, ex, Info.RemoteEndPoint);
            }
        }

        settled.Clear(); // holds no links past the disposition
    }

    private void OnDetach(AmqpSession session, ReadOnlySpan<byte> body)
    {
        AmqpDetach detach = AmqpDetach.Decode(body);
        AmqpLink? link;
        bool notify;
        lock (_lock)
        {
            if (!session.Links.Remove(detach.Handle, out link))
            {
                throw new AmqpConnectionException("amqp:session:unattached-handle", $"Handle {detach.Handle} is not attached.");
            }

            notify = link.State == AmqpLink.LinkState.Attached;
            if (link.State != AmqpLink.LinkState.DetachSent)
            {
                WriteFrame(session.Channel, new AmqpDetach { Handle = link.Handle, Closed = detach.Closed });
            }

            link.State = AmqpLink.LinkState.Detached;
        }

        if (notify)
        {
            Notify(link, static l => l.Endpoint?.OnDetached(l));
        }
    }

    internal bool TrySend(AmqpLink link, ReadOnlySpan<byte> message, ReadOnlySpan<byte> deliveryTag, bool settled, uint messageFormat, out uint deliveryId)
    {
        deliveryId = 0;
        if (deliveryTag.Length > AmqpTransfer.MaxDeliveryTagLength)
        {
            throw new ArgumentException("A delivery tag is at most 32 bytes.", nameof(deliveryTag));
        }

        lock (_lock)
        {
            AmqpSession session = link.Session;
            int chunk = (int)Math.Min(_peerMaxFrameSize, int.MaxValue) - TransferOverhead;
            uint frames = (uint)Math.Max(1, (message.Length + chunk - 1) / chunk);
            if (_state != State.Opened || link.Role != AmqpRole.Sender || link.State != AmqpLink.LinkState.Attached || link.LinkCredit == 0
                || session.RemoteIncomingWindow < frames || _outbox.PendingBytes > _options.MaxPendingOutputBytes
                || (link.PeerMaxMessageSize is { } max && (ulong)message.Length > max))
            {
                return false;
            }

            deliveryId = session.NextDeliveryId++;
            session.NextOutgoingId = unchecked(session.NextOutgoingId + frames);
            session.RemoteIncomingWindow -= frames;
            link.LinkCredit--;
            link.DeliveryCount++;
            if (!settled)
            {
                session.UnsettledOutgoing[deliveryId] = link;
            }

            using AmqpOutbox.Scope scope = _outbox.Begin();
            int offset = 0;
            for (uint i = 0; i < frames; i++)
            {
                int length = Math.Min(chunk, message.Length - offset);
                bool more = i + 1 < frames;
                AmqpTransfer transfer = i == 0
                    ? new AmqpTransfer { Handle = link.Handle, DeliveryId = deliveryId, DeliveryTag = deliveryTag, MessageFormat = messageFormat, Settled = settled, More = more }
                    : new AmqpTransfer { Handle = link.Handle, More = more };
                AmqpFrameWriter.WriteFrame(scope.Writer, AmqpFrameType.Amqp, session.Channel, transfer, message.Slice(offset, length));
                offset += length;
            }

            return true;
        }
    }

    internal void Settle(AmqpLink link, uint deliveryId, AmqpOutcome outcome)
    {
        lock (_lock)
        {
            if (link.State != AmqpLink.LinkState.Attached || _state != State.Opened)
            {
                return;
            }

            if (outcome.Kind == AmqpDeliveryStateKind.Accepted)
            {
                _outbox.SettleAccepted(link.Session.Channel, deliveryId); // consecutive ones share a disposition
                return;
            }

            byte[] condition = outcome.Condition is null ? [] : Encoding.ASCII.GetBytes(outcome.Condition);
            byte[] description = outcome.Description is null ? [] : Encoding.UTF8.GetBytes(outcome.Description);
            AmqpDeliveryState state = outcome.Kind switch
            {
                AmqpDeliveryStateKind.Accepted => AmqpDeliveryState.Accepted,
                AmqpDeliveryStateKind.Released => AmqpDeliveryState.Released,
                AmqpDeliveryStateKind.Modified => new AmqpDeliveryState { Kind = AmqpDeliveryStateKind.Modified, DeliveryFailed = true },
                _ => AmqpDeliveryState.Rejected(new AmqpError(condition.Length == 0 ? "amqp:internal-error"u8 : condition, description)),
            };
            WriteFrame(link.Session.Channel, new AmqpDisposition { Role = AmqpRole.Receiver, First = deliveryId, Settled = true, State = state });
        }
    }

    internal void DetachLocal(AmqpLink link, string? condition, string? description)
    {
        lock (_lock)
        {
            if (link.State != AmqpLink.LinkState.Attached || _state != State.Opened)
            {
                return;
            }

            link.State = AmqpLink.LinkState.DetachSent;
            AmqpError error = condition is null ? default : new AmqpError(Encoding.ASCII.GetBytes(condition), Encoding.UTF8.GetBytes(description ?? string.Empty));
            WriteFrame(link.Session.Channel, new AmqpDetach { Handle = link.Handle, Closed = true, Error = error });
        }

        Notify(link, static l => l.Endpoint?.OnDetached(l));
    }

    internal void GrantCredit(AmqpLink link, uint credit)
    {
        if (link.Role != AmqpRole.Receiver)
        {
            throw new InvalidOperationException("Credit is granted on links the peer sends on.");
        }

        lock (_lock)
        {
            link.LinkCredit = credit;
            if (link.State == AmqpLink.LinkState.Attached && _state == State.Opened)
            {
                WriteLinkFlow(link.Session, link);
            }
        }
    }

    internal uint GetCredit(AmqpLink link)
    {
        lock (_lock)
        {
            return link.LinkCredit;
        }
    }

    /// <summary>Closes idle connections, aborts ones that never opened, and sends the heartbeats the peer needs.</summary>
    internal void CheckDeadlines(long now)
    {
        if (_state is State.Closed)
        {
            return;
        }

        if (_state != State.Opened)
        {
            if (_time.GetElapsedTime(_startedAt, now) > _options.OpenTimeout)
            {
                _closeReason = "open timeout";
                _connection.Abort(new ConnectionAbortedException("The AMQP connection did not open in time."));
            }

            return;
        }

        if (_options.IdleTimeout > TimeSpan.Zero && _time.GetElapsedTime(Volatile.Read(ref _lastRead), now) > _options.IdleTimeout)
        {
            // As Azure's services say it: connection:forced, which clients treat as retriable.
            CloseWithError("amqp:connection:forced", $"The connection was inactive for more than the allowed {(long)_options.IdleTimeout.TotalMilliseconds} milliseconds.");
            _connection.Transport.Input.CancelPendingRead();
            return;
        }

        if (_peerIdleTicks > 0 && now - _outbox.LastWrite >= _peerIdleTicks / 2)
        {
            using AmqpOutbox.Scope scope = _outbox.Begin();
            AmqpFrameWriter.WriteEmptyFrame(scope.Writer);
        }
    }

    private void Shutdown()
    {
        CloseWithError("amqp:connection:forced", "The broker is shutting down.");
        _connection.Transport.Input.CancelPendingRead();
    }

    private void CloseWithError(string condition, string description)
    {
        lock (_lock)
        {
            if (_state == State.Closed)
            {
                return;
            }

            AmqpLog.ClosingWithError(_logger, Info.RemoteEndPoint, condition, description);
            CloseCondition = condition;
            if (_state is State.AwaitOpen or State.Opened)
            {
                if (!_openSent)
                {
                    SendOpen(); // close must follow an open (§2.4.1)
                }

                WriteFrame(0, new AmqpClose { Error = new AmqpError(Encoding.ASCII.GetBytes(condition), Encoding.UTF8.GetBytes(description)) });
            }

            Stop(condition);
        }
    }

    private void Stop(string reason)
    {
        _closeReason = reason;
        _state = State.Closed;
        Volatile.Write(ref _stopReading, true);
    }

    private void DetachAll()
    {
        List<AmqpLink> links = [];
        lock (_lock)
        {
            _state = State.Closed;
            foreach (AmqpSession session in _sessions.Values)
            {
                foreach (AmqpLink link in session.Links.Values)
                {
                    if (link.State == AmqpLink.LinkState.Attached)
                    {
                        links.Add(link);
                    }

                    link.State = AmqpLink.LinkState.Detached;
                }
            }

            _sessions.Clear();
        }

        foreach (AmqpLink link in links)
        {
            Notify(link, static l => l.Endpoint?.OnDetached(l));
        }
    }

    private AmqpSession GetSession(ushort channel)
    {
        lock (_lock)
        {
            return _sessions.TryGetValue(channel, out AmqpSession? session)
                ? session
                : throw new AmqpConnectionException("amqp:not-found", $"Channel {channel} has no session.");
        }
    }

    private void WriteFlow(AmqpSession session, AmqpLink? link)
    {
        WriteFrame(session.Channel, new AmqpFlow
        {
            NextIncomingId = session.NextIncomingId,
            IncomingWindow = session.IncomingWindow,
            NextOutgoingId = session.NextOutgoingId,
            OutgoingWindow = _options.SessionWindow,
            Handle = link?.Handle,
            DeliveryCount = link?.DeliveryCount,
            LinkCredit = link?.LinkCredit,
            Drain = link is { Drain: true } ? true : null,
        });
    }

    private void WriteLinkFlow(AmqpSession session, AmqpLink link) => WriteFlow(session, link);

    private void WriteFrame<T>(ushort channel, scoped in T performative)
        where T : IAmqpPerformative, allows ref struct
    {
        using AmqpOutbox.Scope scope = _outbox.Begin();
        AmqpFrameWriter.WriteFrame(scope.Writer, AmqpFrameType.Amqp, channel, performative);
    }

    private void WriteHeader(AmqpProtocolId id)
    {
        using AmqpOutbox.Scope scope = _outbox.Begin();
        AmqpProtocolHeader.Write(scope.Writer, id);
    }

    private void Notify(AmqpLink link, Action<AmqpLink> callback)
    {
        try
        {
            callback(link);
        }
        catch (Exception ex)
        {
            AmqpLog.CallbackFailed(_logger, ex, Info.RemoteEndPoint);
        }
    }

    private byte[] EncodeMechanisms()
    {
        var output = new ArrayBufferWriter<byte>();
        var writer = new AmqpWriter(output);
        writer.WriteSymbolArray([.. _options.SaslMechanisms]);
        writer.Commit();
        return output.WrittenSpan.ToArray();
    }

    private static AmqpOutcome ToOutcome(in AmqpDeliveryState state) => state.Kind switch
    {
        AmqpDeliveryStateKind.Accepted => AmqpOutcome.Accepted,
        AmqpDeliveryStateKind.Released => AmqpOutcome.Released,
        AmqpDeliveryStateKind.Modified => AmqpOutcome.Modified,
        AmqpDeliveryStateKind.Rejected => AmqpOutcome.Rejected(
            state.Error.IsPresent ? Encoding.ASCII.GetString(state.Error.Condition) : "amqp:internal-error",
            state.Error.Description.IsEmpty ? null : Encoding.UTF8.GetString(state.Error.Description)),
        _ => new AmqpOutcome(state.Kind),
    };

    private static byte[]? EncodeSource(in AmqpSource source)
    {
        if (!source.IsPresent)
        {
            return null;
        }

        var output = new ArrayBufferWriter<byte>();
        var writer = new AmqpWriter(output);
        source.Write(ref writer);
        writer.Commit();
        return output.WrittenSpan.ToArray();
    }

    private static byte[]? EncodeTarget(in AmqpTarget target)
    {
        if (!target.IsPresent)
        {
            return null;
        }

        var output = new ArrayBufferWriter<byte>();
        var writer = new AmqpWriter(output);
        target.Write(ref writer);
        writer.Commit();
        return output.WrittenSpan.ToArray();
    }

    private static AmqpSource DecodeSource(byte[]? encoded)
    {
        if (encoded is null)
        {
            return default;
        }

        var reader = new AmqpReader(encoded);
        return AmqpSource.ReadOptional(ref reader);
    }

    private static AmqpTarget DecodeTarget(byte[]? encoded)
    {
        if (encoded is null)
        {
            return default;
        }

        var reader = new AmqpReader(encoded);
        return AmqpTarget.ReadOptional(ref reader);
    }
}
