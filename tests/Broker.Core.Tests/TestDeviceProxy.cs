using System.Collections.Concurrent;
using Broker.Core.Hub;
using Broker.Core.Security;

namespace Broker.Core.Tests;

/// <summary>A device connection that only records what the hub asks of it (C2D wake-ups, method requests, closes).</summary>
internal sealed class TestDeviceProxy : IDeviceProxy
{
    private readonly ConcurrentQueue<SentMethodRequest> _methodRequests = new();
    private readonly TaskCompletionSource<SentMethodRequest> _nextMethodRequest = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private int _subscriptions;
    private int _wakeUps;
    private int _closes;

    public TestDeviceProxy(string deviceId, string? moduleId = null, DeviceSubscriptions subscriptions = DeviceSubscriptions.None)
    {
        Context = new DeviceContext(deviceId, moduleId, ProtocolKind.Mqtt, AuthMethod.IdentityKey, "1", TestStores.Start, null);
        _subscriptions = (int)subscriptions;
    }

    public DeviceContext Context { get; }

    public DeviceSubscriptions Subscriptions
    {
        get => (DeviceSubscriptions)Volatile.Read(ref _subscriptions);
        set => Volatile.Write(ref _subscriptions, (int)value);
    }

    /// <summary>What <see cref="SendMethodRequest"/> answers (false: the outbound queue is full).</summary>
    public bool AcceptMethodRequests { get; set; } = true;

    /// <summary>How often the hub said the C2D queue has messages.</summary>
    public int CloudToDeviceWakeUps => Volatile.Read(ref _wakeUps);

    public int Closes => Volatile.Read(ref _closes);

    public IReadOnlyCollection<SentMethodRequest> MethodRequests => _methodRequests;

    /// <summary>Completes with the first method request this proxy receives.</summary>
    public Task<SentMethodRequest> FirstMethodRequest => _nextMethodRequest.Task;

    public void Close(DisconnectReason reason) => Interlocked.Increment(ref _closes);

    public bool SendMethodRequest(string methodName, string requestId, ReadOnlyMemory<byte> payload)
    {
        if (!AcceptMethodRequests)
        {
            return false;
        }

        var sent = new SentMethodRequest(methodName, requestId, payload.ToArray());
        _methodRequests.Enqueue(sent);
        _nextMethodRequest.TrySetResult(sent);
        return true;
    }

    public void SendDesiredPropertiesPatch(long version, ReadOnlyMemory<byte> patch)
    {
    }

    public void CloudToDeviceAvailable() => Interlocked.Increment(ref _wakeUps);
}

internal sealed record SentMethodRequest(string MethodName, string RequestId, byte[] Payload);
