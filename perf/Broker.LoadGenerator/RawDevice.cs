using System.Buffers;
using System.Diagnostics;
using System.IO.Pipelines;
using System.Net;
using System.Net.Security;
using System.Net.Sockets;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using Broker.Protocols.Mqtt.Codec;

namespace Broker.LoadGenerator;

/// <summary>
/// A device on a plain socket (or TLS stream) with pipes and the broker's own MQTT codec: publishing writes a
/// header and copies the payload into the pipe, an ack is a table lookup and a histogram increment.
/// </summary>
internal sealed class RawDevice(DeviceCredentials credentials, LoadOptions options, byte[] payload)
    : SimulatedDevice(credentials, options, payload)
{
    private const int MaxPacketSize = 64 * 1024;
    private const ushort KeepAliveSeconds = 300;

    // QoS 0 has no ack to wait for: a few messages per flush keep syscalls down without hiding back-pressure.
    private const int Qos0Batch = 16;

    private readonly long[] _sentAt = new long[ushort.MaxValue + 1];
    private readonly byte[] _topic = Encoding.UTF8.GetBytes($"devices/{credentials.DeviceId}/messages/events/");
    private readonly TaskCompletionSource _drained = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private SemaphoreSlim? _window;
    private Stream? _stream;
    private PipeReader? _reader;
    private PipeWriter? _writer;
    private Task? _receiveLoop;
    private RunClock? _clock;
    private ushort _lastPacketId;
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
            await tls.AuthenticateAsClientAsync(TlsOptions(Options), cancellationToken).ConfigureAwait(false);
        }

        _stream = stream;
        _reader = PipeReader.Create(stream, new StreamPipeReaderOptions(bufferSize: 4096));
        _writer = PipeWriter.Create(stream, new StreamPipeWriterOptions(minimumBufferSize: 32 * 1024));

        var content = new MqttConnectContent
        {
            ClientId = Encoding.UTF8.GetBytes(Credentials.DeviceId),
            KeepAliveSeconds = KeepAliveSeconds,
            CleanSession = true,
            HasUserName = true,
            UserName = Encoding.UTF8.GetBytes(Credentials.UserName),
            HasPassword = true,
            Password = Encoding.UTF8.GetBytes(Credentials.Password),
        };
        MqttPacketWriter.WriteConnect(_writer, content);
        await _writer.FlushAsync(cancellationToken).ConfigureAwait(false);

        while (true)
        {
            var result = await _reader.ReadAsync(cancellationToken).ConfigureAwait(false);
            var buffer = result.Buffer;
            var status = MqttFrameReader.TryReadFrame(buffer, MaxPacketSize, out var frame, out var consumed, out _);
            if (status == OperationStatus.Done)
            {
                var accepted = frame.Type == MqttPacketType.ConnAck && MqttConnAckPacket.TryDecode(frame, out var connAck, out _)
                    ? connAck.ReturnCode
                    : (MqttConnectReturnCode?)null;
                _reader.AdvanceTo(consumed);
                if (accepted != MqttConnectReturnCode.Accepted)
                {
                    throw new LoadException($"{Credentials.DeviceId}: the broker refused CONNECT ({(accepted is { } code ? $"CONNACK 0x{(byte)code:x2}" : $"{frame.Type} instead of CONNACK")}).");
                }

                break;
            }

            if (status == OperationStatus.InvalidData || result.IsCompleted)
            {
                throw new LoadException($"{Credentials.DeviceId}: the broker closed the connection or sent garbage instead of CONNACK.");
            }

            _reader.AdvanceTo(buffer.Start, buffer.End);
        }

        _window = new SemaphoreSlim(Options.Window, Options.Window);
        _receiveLoop = Task.Run(ReceiveLoopAsync, CancellationToken.None);
    }

    public override async Task RunAsync(RunClock clock)
    {
        _clock = clock;
        _sending = true;
        var writer = _writer ?? throw new InvalidOperationException("Not connected.");
        var window = _window!;
        var qos1 = Options.Qos == 1;
        var qos = qos1 ? MqttQualityOfService.AtLeastOnce : MqttQualityOfService.AtMostOnce;
        var maxBatch = qos1 ? Options.Window : Qos0Batch;
        using var pacer = Options.Rate > 0 ? new Pacer(Options.Rate / Options.Devices, StaggeredStart(clock)) : null;
        var stop = clock.Stop;
        try
        {
            while (!stop.IsCancellationRequested && !_closing)
            {
                var count = pacer is null ? maxBatch : await pacer.NextAsync(maxBatch, stop).ConfigureAwait(false);
                if (qos1)
                {
                    // Take one slot of the in-flight window (waiting for a PUBACK if need be), then whatever else is free.
                    await window.WaitAsync(stop).ConfigureAwait(false);
                    var slots = 1;
                    while (slots < count && window.Wait(0))
                    {
                        slots++;
                    }

                    count = slots;
                }

                var now = Stopwatch.GetTimestamp();
                for (var i = 0; i < count; i++)
                {
                    ushort packetId = 0;
                    if (qos1)
                    {
                        packetId = ++_lastPacketId == 0 ? ++_lastPacketId : _lastPacketId;
                        _sentAt[packetId] = now;
                    }

                    MqttPacketWriter.WritePublish(writer, _topic, packetId, qos, retain: false, dup: false, Payload);
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
        catch (Exception e) when (e is IOException or SocketException or ObjectDisposedException)
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

        // A broker answers a connection's packets in order, so the PINGRESP comes after every earlier PUBLISH was read.
        MqttPacketWriter.WritePingReq(_writer);
        await _writer.FlushAsync(cancellationToken).ConfigureAwait(false);
        await _drained.Task.WaitAsync(cancellationToken).ConfigureAwait(false);
    }

    public override async ValueTask DisposeAsync()
    {
        _closing = true;
        // The pipe has one writer: a send loop still stuck in a flush (the run timed out) gets no DISCONNECT behind it.
        if (_writer is not null && !_sending)
        {
            try
            {
                MqttPacketWriter.WriteDisconnect(_writer);
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

    internal static SslClientAuthenticationOptions TlsOptions(LoadOptions options)
    {
        var policy = new X509ChainPolicy { TrustMode = X509ChainTrustMode.CustomRootTrust, RevocationMode = X509RevocationMode.NoCheck };
        policy.CustomTrustStore.Add(X509Certificate2.CreateFromPem(File.ReadAllText(options.CaFile!)));
        return new SslClientAuthenticationOptions
        {
            // The broker's generated certificate names its hub host (localhost by default), not the loopback address.
            TargetHost = IPAddress.TryParse(options.Host, out _) ? "localhost" : options.Host,
            CertificateChainPolicy = policy,
        };
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
                while (true)
                {
                    var status = MqttFrameReader.TryReadFrame(buffer, MaxPacketSize, out var frame, out var consumed, out var error);
                    if (status == OperationStatus.NeedMoreData)
                    {
                        break;
                    }

                    if (status == OperationStatus.InvalidData)
                    {
                        throw new LoadException($"{Credentials.DeviceId}: malformed packet from the broker ({error}).");
                    }

                    Handle(frame);
                    buffer = buffer.Slice(consumed);
                }

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
        catch (Exception e) when (e is IOException or SocketException or ObjectDisposedException or LoadException or InvalidOperationException)
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
            await reader.CompleteAsync().ConfigureAwait(false);
        }
    }

    private void Handle(in MqttFrame frame)
    {
        switch (frame.Type)
        {
            case MqttPacketType.PubAck when MqttAckPacket.TryDecode(frame, out var ack, out _):
                var now = Stopwatch.GetTimestamp();
                var sentAt = _sentAt[ack.PacketId];
                var clock = _clock;
                if (clock is not null && clock.InWindow(now))
                {
                    // Throughput counts every ack in the window; latency only messages that were also sent in it.
                    Acknowledged++;
                    if (clock.InWindow(sentAt))
                    {
                        Latency.Record(RunClock.ToNanoseconds(now - sentAt));
                    }
                }

                _window!.Release();
                if (Volatile.Read(ref _draining) == 1 && _window.CurrentCount == Options.Window)
                {
                    _drained.TrySetResult();
                }

                break;
            case MqttPacketType.PingResp:
                _drained.TrySetResult();
                break;
            default:
                // Nothing else is expected on a publish-only connection; ignore it rather than guess.
                break;
        }
    }
}
