using System.IO.Pipelines;
using Broker.Core.Threading;
using Broker.Protocols.Mqtt.Codec;

namespace Broker.Protocols.Mqtt.Server;

/// <summary>
/// The only writer of a connection's output pipe. Acknowledgements and responses (the control lane) go out ahead
/// of queued messages (the data lane); each wake-up writes what is queued and flushes once.
/// </summary>
internal sealed class MqttOutbox
{
    private readonly Lock _lock = new();
    private readonly PipeWriter _output;
    private readonly AsyncSignal _signal = new();
    private readonly int _maxMessages;
    private readonly Queue<ControlItem> _control = new();
    private readonly Queue<OutboundPublish> _data = new();
    private bool _completed;

    public MqttOutbox(PipeWriter output, int maxMessages)
    {
        _output = output;
        _maxMessages = maxMessages;
    }

    public void Enqueue(ControlItem item)
    {
        lock (_lock)
        {
            if (_completed)
            {
                return;
            }

            _control.Enqueue(item);
        }

        _signal.Set();
    }

    public bool Enqueue(OutboundPublish publish)
    {
        lock (_lock)
        {
            if (_completed || _data.Count >= _maxMessages)
            {
                return false;
            }

            _data.Enqueue(publish);
        }

        _signal.Set();
        return true;
    }

    /// <summary>Stops taking items; the writer loop writes what is queued and ends.</summary>
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
        while (!cancellationToken.IsCancellationRequested)
        {
            await _signal.WaitAsync().ConfigureAwait(false);
            bool completed;
            lock (_lock)
            {
                while (_control.TryDequeue(out var item))
                {
                    Write(item);
                }

                while (_data.TryDequeue(out var publish))
                {
                    MqttPacketWriter.WritePublish(_output, System.Text.Encoding.UTF8.GetBytes(publish.Topic), publish.PacketId, publish.Qos, false, false, publish.Payload.Span);
                }

                completed = _completed;
            }

            var result = await _output.FlushAsync(cancellationToken).ConfigureAwait(false);
            if (completed || result.IsCompleted || result.IsCanceled)
            {
                return;
            }
        }
    }

    private void Write(ControlItem item)
    {
        switch (item.Kind)
        {
            case ControlKind.ConnAck:
                MqttPacketWriter.WriteConnAck(_output, item.SessionPresent, item.ConnectReturnCode);
                break;
            case ControlKind.PubAck:
                MqttPacketWriter.WritePubAck(_output, item.PacketId);
                break;
            case ControlKind.SubAck:
                MqttPacketWriter.WriteSubAck(_output, item.PacketId, item.SubscribeReturnCodes);
                break;
            case ControlKind.UnsubAck:
                MqttPacketWriter.WriteUnsubAck(_output, item.PacketId);
                break;
            case ControlKind.PingResp:
                MqttPacketWriter.WritePingResp(_output);
                break;
        }
    }
}

/// <summary>The kinds of control-lane packet.</summary>
internal enum ControlKind : byte
{
    ConnAck,
    PubAck,
    SubAck,
    UnsubAck,
    PingResp,
}

/// <summary>One control-lane packet; a struct so acknowledgements cost no allocation.</summary>
internal readonly record struct ControlItem(ControlKind Kind, ushort PacketId, MqttConnectReturnCode ConnectReturnCode = default,
    bool SessionPresent = false, MqttSubscribeReturnCode[]? SubscribeReturnCodes = null);

/// <summary>A message queued for the device.</summary>
internal sealed record OutboundPublish(string Topic, ReadOnlyMemory<byte> Payload, MqttQualityOfService Qos, ushort PacketId);
