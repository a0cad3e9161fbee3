using System.IO.Pipelines;
using System.Net;
using System.Net.WebSockets;
using Microsoft.AspNetCore.Connections;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;

namespace Broker.Host.WebSockets;

/// <summary>
/// An accepted WebSocket presented to a protocol engine as the byte stream of a connection, as Kestrel presents a
/// socket: binary messages in arrive on <see cref="Transport"/>'s input, what the engine writes leaves as binary
/// messages. The HTTPS connection's TLS feature (with any client certificate) comes along, so X.509 devices
/// authenticate over WebSockets as over TCP.
/// </summary>
internal sealed class WebSocketConnection : ConnectionContext
{
    // As Kestrel's socket transport: the engine may examine up to a whole 256 KB MQTT packet before consuming it.
    private static readonly PipeOptions InputOptions = new(pauseWriterThreshold: 1024 * 1024, resumeWriterThreshold: 512 * 1024, useSynchronizationContext: false);
    private static readonly PipeOptions OutputOptions = new(useSynchronizationContext: false);

    private static readonly TimeSpan CloseHandshakeTimeout = TimeSpan.FromSeconds(5);

    private readonly HttpContext _http;
    private readonly WebSocket _socket;
    private readonly Pipe _input = new(InputOptions);
    private readonly Pipe _output = new(OutputOptions);
    private readonly CancellationTokenSource _closed = new();

    public WebSocketConnection(HttpContext http, WebSocket socket)
    {
        _http = http;
        _socket = socket;
        ConnectionId = http.Connection.Id;
        Transport = new DuplexPipe(_input.Reader, _output.Writer);
        ConnectionClosed = _closed.Token;
        if (http.Features.Get<ITlsConnectionFeature>() is { } tls)
        {
            Features.Set(tls);
        }

        if (http.Connection.RemoteIpAddress is { } remote)
        {
            RemoteEndPoint = new IPEndPoint(remote, http.Connection.RemotePort);
        }

        if (http.Connection.LocalIpAddress is { } local)
        {
            LocalEndPoint = new IPEndPoint(local, http.Connection.LocalPort);
        }
    }

    public override string ConnectionId { get; set; }

    public override IFeatureCollection Features { get; } = new FeatureCollection();

    public override IDictionary<object, object?> Items { get; set; } = new Dictionary<object, object?>();

    public override IDuplexPipe Transport { get; set; }

    public override CancellationToken ConnectionClosed { get; set; }

    /// <summary>Drops the underlying connection at once (the engine's close, or the broker shutting down).</summary>
    public override void Abort(ConnectionAbortedException abortReason)
    {
        _http.Abort();
        Cancel();
    }

    /// <summary>Runs <paramref name="handler"/> on this connection until it ends, pumping the WebSocket both ways.</summary>
    public async Task RunAsync(ConnectionHandler handler)
    {
        var receiving = ReceiveAsync();
        var sending = SendAsync();
        try
        {
            await handler.OnConnectedAsync(this).ConfigureAwait(false);
        }
        finally
        {
            // The engine completed its side of the pipes: what it wrote is sent, then the WebSocket closing handshake.
            // Dropping the TCP connection instead could reset it before the client has read the last bytes (a
            // refusing CONNACK, say), so the client's close frame is waited for, a few seconds at most.
            await _input.Reader.CompleteAsync().ConfigureAwait(false);
            await _output.Writer.CompleteAsync().ConfigureAwait(false);
            await sending.ConfigureAwait(false);
            await CloseAsync().ConfigureAwait(false);
            try
            {
                await receiving.WaitAsync(CloseHandshakeTimeout).ConfigureAwait(false);
            }
            catch (TimeoutException)
            {
                Cancel();
                await receiving.ConfigureAwait(false);
            }

            Cancel();
            _closed.Dispose();
        }
    }

    public override async ValueTask DisposeAsync()
    {
        Cancel();
        await base.DisposeAsync().ConfigureAwait(false);
    }

    private async Task ReceiveAsync()
    {
        var writer = _input.Writer;
        Exception? error = null;
        byte[]? discard = null;
        try
        {
            while (true)
            {
                if (discard is not null)
                {
                    // The engine reads no more: what still arrives before the client's close frame is dropped.
                    if ((await _socket.ReceiveAsync(discard.AsMemory(), _closed.Token).ConfigureAwait(false)).MessageType == WebSocketMessageType.Close)
                    {
                        break;
                    }

                    continue;
                }

                var result = await _socket.ReceiveAsync(writer.GetMemory(4096), _closed.Token).ConfigureAwait(false);
                if (result.MessageType == WebSocketMessageType.Close)
                {
                    break;
                }

                writer.Advance(result.Count);
                var flush = await writer.FlushAsync(_closed.Token).ConfigureAwait(false);
                if (flush.IsCompleted || flush.IsCanceled)
                {
                    discard = new byte[512];
                }
            }
        }
        catch (Exception ex) when (ex is OperationCanceledException or WebSocketException or IOException or ConnectionAbortedException)
        {
            // The engine ended the connection, or the client went away: either is the end of the input.
            error = ex is OperationCanceledException ? null : ex;
        }

        await writer.CompleteAsync(error is null ? null : new ConnectionResetException(error.Message, error)).ConfigureAwait(false);
    }

    private async Task SendAsync()
    {
        var reader = _output.Reader;
        try
        {
            while (true)
            {
                var result = await reader.ReadAsync(_closed.Token).ConfigureAwait(false);
                var buffer = result.Buffer;
                foreach (var segment in buffer)
                {
                    await _socket.SendAsync(segment, WebSocketMessageType.Binary, endOfMessage: true, _closed.Token).ConfigureAwait(false);
                }

                reader.AdvanceTo(buffer.End);
                if (result.IsCompleted || result.IsCanceled)
                {
                    break;
                }
            }
        }
        catch (Exception ex) when (ex is OperationCanceledException or WebSocketException or IOException or ConnectionAbortedException)
        {
            // The client is gone; the engine learns it from its input.
            Cancel();
        }

        await reader.CompleteAsync().ConfigureAwait(false);
    }

    private async Task CloseAsync()
    {
        if (_socket.State is not (WebSocketState.Open or WebSocketState.CloseReceived))
        {
            return;
        }

        try
        {
            using var bound = new CancellationTokenSource(TimeSpan.FromSeconds(5));
            await _socket.CloseOutputAsync(WebSocketCloseStatus.NormalClosure, null, bound.Token).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is OperationCanceledException or WebSocketException or IOException or ConnectionAbortedException)
        {
            // The client went away first.
        }
    }

    private void Cancel()
    {
        try
        {
            _closed.Cancel();
        }
        catch (ObjectDisposedException)
        {
            // Already over.
        }
    }

    private sealed class DuplexPipe(PipeReader input, PipeWriter output) : IDuplexPipe
    {
        public PipeReader Input { get; } = input;

        public PipeWriter Output { get; } = output;
    }
}
