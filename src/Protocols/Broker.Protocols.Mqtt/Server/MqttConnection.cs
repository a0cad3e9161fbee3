using System.Buffers;
using System.IO.Pipelines;
using System.Text;
using Broker.Core.Hub;
using Broker.Protocols.Mqtt.Codec;
using Microsoft.AspNetCore.Connections;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.Logging;

namespace Broker.Protocols.Mqtt.Server;

/// <summary>
/// The generic MQTT 3.1.1 engine for one connection: one read loop that parses frames in place and hands their
/// content to the dialect's session, and one outbox that writes everything the device receives. QoS 2 is not
/// supported (IoT Hub closes such connections, and so does this engine).
/// </summary>
public sealed class MqttConnection : IMqttClient
{
    private readonly ConnectionContext _connection;
    private readonly ITlsConnectionFeature? _tls;
    private readonly IMqttConnectPolicy _policy;
    private readonly MqttConnectionMonitor _monitor;
    private readonly MqttServerOptions _options;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly CancellationTokenSource _closing = new();
    private readonly MqttOutbox _outbox;
    private readonly long _startedAt;
    private IMqttSession? _session;
    private long _lastActivity;
    private long _keepAliveTicks;
    private DateTimeOffset? _credentialsExpiry;
    private int _closed;
    private bool _graceful;

    internal MqttConnection(ConnectionContext connection, ITlsConnectionFeature? tls, IMqttConnectPolicy policy, MqttConnectionMonitor monitor,
        MqttServerOptions options, TimeProvider time, ILogger logger)
    {
        _connection = connection;
        _tls = tls;
        _policy = policy;
        _monitor = monitor;
        _options = options;
        _time = time;
        _logger = logger;
        _outbox = new MqttOutbox(connection.Transport.Output, options.MaxOutboundMessages);
        _startedAt = time.GetTimestamp();
        _lastActivity = _startedAt;
    }

    /// <inheritdoc />
    public string RemoteEndPoint => _connection.RemoteEndPoint?.ToString() ?? _connection.ConnectionId;

    /// <summary>Why the connection was closed by the hub, if it was.</summary>
    public DisconnectReason? CloseReason { get; private set; }

    internal async Task RunAsync()
    {
        var writer = _outbox.RunAsync(_closing.Token);
        _monitor.Add(this);
        try
        {
            await ReadLoopAsync().ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is OperationCanceledException or ConnectionResetException or ConnectionAbortedException or IOException)
        {
            // the device went away or the hub closed the connection
        }
        catch (Exception ex)
        {
            MqttLog.Failed(_logger, ex, RemoteEndPoint);
        }
        finally
        {
            _monitor.Remove(this);
            _outbox.Complete();
            try
            {
                await writer.ConfigureAwait(false);
            }
            catch (Exception ex) when (ex is OperationCanceledException or ConnectionResetException or ConnectionAbortedException or IOException or InvalidOperationException)
            {
            }

            _session?.OnClosed(_graceful, CloseReason);
            MqttLog.Closed(_logger, RemoteEndPoint, CloseReason?.ToString() ?? (_graceful ? "DISCONNECT" : "transport closed"));
            await _connection.Transport.Input.CompleteAsync().ConfigureAwait(false);
            await _connection.Transport.Output.CompleteAsync().ConfigureAwait(false);
            _closing.Dispose();
        }
    }

    private async Task ReadLoopAsync()
    {
        var input = _connection.Transport.Input;
        while (true)
        {
            var result = await input.ReadAsync(_closing.Token).ConfigureAwait(false);
            var buffer = result.Buffer;
            var consumed = buffer.Start;
            try
            {
                while (true)
                {
                    var status = MqttFrameReader.TryReadFrame(buffer, _options.MaxPacketSize, out var frame, out var frameEnd, out var error);
                    if (status == OperationStatus.NeedMoreData)
                    {
                        break;
                    }

                    if (status != OperationStatus.Done)
                    {
                        MqttLog.Malformed(_logger, RemoteEndPoint, error);
                        if (_session is null && error.TryGetConnectReturnCode(out var code))
                        {
                            _outbox.Enqueue(new ControlItem(ControlKind.ConnAck, 0, code));
                        }

                        CloseReason = DisconnectReason.ProtocolViolation;
                        return;
                    }

                    Volatile.Write(ref _lastActivity, _time.GetTimestamp());
                    bool keepReading;
                    if (_session is null)
                    {
                        keepReading = await OnConnectAsync(frame).ConfigureAwait(false);
                    }
                    else
                    {
                        PacketResult packet;
                        while ((packet = OnPacket(frame)) == PacketResult.RetryWhenReady)
                        {
                            // Back-pressure: stop reading (the buffer is not advanced) until the session can take it.
                            await _session.WhenReadyAsync(_closing.Token).ConfigureAwait(false);
                        }

                        keepReading = packet == PacketResult.Continue;
                    }

                    buffer = buffer.Slice(frameEnd);
                    consumed = frameEnd;
                    if (!keepReading)
                    {
                        return;
                    }
                }

                if (result.IsCompleted || result.IsCanceled)
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

    private async ValueTask<bool> OnConnectAsync(MqttFrame frame)
    {
        if (frame.Type != MqttPacketType.Connect)
        {
            CloseReason = DisconnectReason.ProtocolViolation; // the first packet must be CONNECT [MQTT-3.1.0-1]
            return false;
        }

        if (!MqttConnectPacket.TryDecode(frame, out var connect, out var error))
        {
            MqttLog.Malformed(_logger, RemoteEndPoint, error);
            if (error.TryGetConnectReturnCode(out var code))
            {
                _outbox.Enqueue(new ControlItem(ControlKind.ConnAck, 0, code));
            }

            CloseReason = DisconnectReason.ProtocolViolation;
            return false;
        }

        if (connect.ProtocolLevel != 4)
        {
            _outbox.Enqueue(new ControlItem(ControlKind.ConnAck, 0, MqttConnectReturnCode.UnacceptableProtocolVersion));
            CloseReason = DisconnectReason.ProtocolViolation;
            return false;
        }

        var request = new MqttConnectRequest(
            connect.GetClientIdString(),
            connect.HasUserName ? connect.GetUserNameString() : null,
            connect.HasPassword ? Encoding.UTF8.GetString(connect.Password) : null,
            connect.KeepAliveSeconds,
            connect.CleanSession,
            _tls?.ClientCertificate,
            _tls is not null,
            connect.HasWill ? new MqttWill(connect.WillTopic.ToArray(), connect.WillMessage.ToArray(), connect.WillQos, connect.WillRetain) : null);

        var decision = await _policy.ConnectAsync(request, this, _closing.Token).ConfigureAwait(false);
        if (decision.ReturnCode != MqttConnectReturnCode.Accepted || decision.Session is null)
        {
            MqttLog.ConnectRefused(_logger, RemoteEndPoint, decision.ReturnCode);
            _outbox.Enqueue(new ControlItem(ControlKind.ConnAck, 0, decision.ReturnCode));
            return false;
        }

        if (request.KeepAliveSeconds > 0)
        {
            var keepAlive = TimeSpan.FromSeconds(request.KeepAliveSeconds * 1.5);
            if (keepAlive > _options.MaxKeepAliveTimeout)
            {
                keepAlive = _options.MaxKeepAliveTimeout;
            }

            Volatile.Write(ref _keepAliveTicks, (long)(keepAlive.TotalSeconds * _time.TimestampFrequency));
        }

        _session = decision.Session;
        _outbox.Enqueue(new ControlItem(ControlKind.ConnAck, 0, MqttConnectReturnCode.Accepted, decision.SessionPresent));
        if (Volatile.Read(ref _closed) != 0)
        {
            return false; // closed (taken over, say) while the dialect was deciding
        }

        _session.OnAccepted();
        return true;
    }

    private PacketResult OnPacket(in MqttFrame frame)
    {
        var session = _session!;
        MqttProtocolError error;
        switch (frame.Type)
        {
            case MqttPacketType.Publish:
                if (!MqttPublishPacket.TryDecode(frame, out var publish, out error))
                {
                    break;
                }

                if (publish.Qos == MqttQualityOfService.ExactlyOnce)
                {
                    CloseReason = DisconnectReason.ProtocolViolation;
                    return PacketResult.Stop;
                }

                switch (session.OnPublish(publish))
                {
                    case MqttPublishOutcome.Acknowledge:
                        if (publish.Qos == MqttQualityOfService.AtLeastOnce)
                        {
                            _outbox.Enqueue(new ControlItem(ControlKind.PubAck, publish.PacketId));
                        }

                        return PacketResult.Continue;
                    case MqttPublishOutcome.AcknowledgeLater:
                        return PacketResult.Continue;
                    case MqttPublishOutcome.RetryWhenReady:
                        return PacketResult.RetryWhenReady;
                    default:
                        CloseReason = DisconnectReason.ProtocolViolation;
                        return PacketResult.Stop;
                }

            case MqttPacketType.PubAck:
                if (!MqttAckPacket.TryDecode(frame, out var ack, out error))
                {
                    break;
                }

                session.OnPublishAcknowledged(ack.PacketId);
                return PacketResult.Continue;

            case MqttPacketType.Subscribe:
                if (!MqttSubscribePacket.TryDecode(frame, out var subscribe, out error))
                {
                    break;
                }

                var codes = new MqttSubscribeReturnCode[subscribe.Count];
                int i = 0;
                foreach (var subscription in subscribe)
                {
                    var granted = session.OnSubscribe(subscription.Filter, subscription.RequestedQos);
                    if (granted is null)
                    {
                        CloseReason = DisconnectReason.ProtocolViolation;
                        return PacketResult.Stop;
                    }

                    codes[i++] = granted.Value;
                }

                if (!session.AcknowledgesSubscriptionLater(subscribe.PacketId, codes))
                {
                    AcknowledgeSubscription(subscribe.PacketId, codes);
                }

                return PacketResult.Continue;

            case MqttPacketType.Unsubscribe:
                if (!MqttUnsubscribePacket.TryDecode(frame, out var unsubscribe, out error))
                {
                    break;
                }

                foreach (var filter in unsubscribe)
                {
                    session.OnUnsubscribe(filter);
                }

                if (!session.AcknowledgesSubscriptionLater(unsubscribe.PacketId, codes: null))
                {
                    AcknowledgeSubscription(unsubscribe.PacketId, codes: null);
                }

                return PacketResult.Continue;

            case MqttPacketType.PingReq:
                _outbox.Enqueue(new ControlItem(ControlKind.PingResp, 0));
                return PacketResult.Continue;

            case MqttPacketType.Disconnect:
                _graceful = true;
                return PacketResult.Stop;

            default:
                // A second CONNECT, QoS 2 flow packets or server-to-client packet types are protocol violations.
                CloseReason = DisconnectReason.ProtocolViolation;
                return PacketResult.Stop;
        }

        MqttLog.Malformed(_logger, RemoteEndPoint, error);
        CloseReason = DisconnectReason.ProtocolViolation;
        return PacketResult.Stop;
    }

    private enum PacketResult
    {
        Continue,
        Stop,
        RetryWhenReady,
    }

    internal void CheckDeadlines(long now, DateTimeOffset utcNow)
    {
        if (_session is null)
        {
            if (_time.GetElapsedTime(_startedAt, now) > _options.ConnectTimeout)
            {
                Close(DisconnectReason.ProtocolViolation);
            }

            return;
        }

        long keepAlive = Volatile.Read(ref _keepAliveTicks);
        if (keepAlive > 0 && now - Volatile.Read(ref _lastActivity) > keepAlive)
        {
            Close(DisconnectReason.KeepAliveTimeout);
        }
        else if (_credentialsExpiry is { } expiry && utcNow >= expiry)
        {
            Close(DisconnectReason.CredentialsExpired);
        }
    }

    /// <inheritdoc />
    public void Acknowledge(ushort packetId) => _outbox.Enqueue(new ControlItem(ControlKind.PubAck, packetId));

    /// <inheritdoc />
    public void AcknowledgeSubscription(ushort packetId, MqttSubscribeReturnCode[]? codes)
    {
        if (codes is null)
        {
            _outbox.Enqueue(new ControlItem(ControlKind.UnsubAck, packetId));
            return;
        }

        _outbox.Enqueue(new ControlItem(ControlKind.SubAck, packetId, SubscribeReturnCodes: codes));
        _session?.OnSubscribeAcknowledged();
    }

    /// <inheritdoc />
    public bool Publish(string topic, ReadOnlyMemory<byte> payload, MqttQualityOfService qos, ushort packetId = 0)
        => _outbox.Enqueue(new OutboundPublish(topic, payload, qos, packetId));

    /// <inheritdoc />
    public void SetCredentialsExpiry(DateTimeOffset? expiresAt) => _credentialsExpiry = expiresAt;

    /// <inheritdoc />
    public void Close(DisconnectReason reason)
    {
        if (Interlocked.Exchange(ref _closed, 1) != 0)
        {
            return;
        }

        CloseReason ??= reason;
        try
        {
            _closing.Cancel();
        }
        catch (ObjectDisposedException)
        {
            return; // already finished
        }

        _connection.Abort(new ConnectionAbortedException($"Closed by the hub: {reason}"));
    }
}
