using System.Collections.Concurrent;
using System.Globalization;
using System.Text.Json;
using Broker.Core.Errors;
using Broker.Core.Hub;
using Broker.Core.Registry;

namespace Broker.Core.Methods;

/// <summary>
/// Direct methods: finds the device's connection (or waits for it to connect and subscribe, up to the connect
/// timeout), sends the request with a fresh request id and waits for the answer, up to the response timeout.
/// 404103 when the device is not connected and subscribed in time, 504101 when it does not answer in time.
/// Waiting is event-driven: connection and subscription changes wake waiters; timeouts come from <see cref="TimeProvider"/>.
/// </summary>
public sealed class MethodInvoker
{
    /// <summary>IoT Hub's largest method payload, each way.</summary>
    public const int MaxPayloadBytes = 128 * 1024;

    private static readonly TimeSpan MinResponseTimeout = TimeSpan.FromSeconds(5);
    private static readonly TimeSpan MaxTimeout = TimeSpan.FromSeconds(300);

    private readonly ConnectionRegistry _connections;
    private readonly IdentityRegistry _identities;
    private readonly TimeProvider _time;
    private readonly ConcurrentDictionary<string, Pending> _pending = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, ConcurrentDictionary<TaskCompletionSource, byte>> _waitingForSubscription = new(StringComparer.Ordinal);
    private long _nextRequestId;

    /// <summary>Created once per hub.</summary>
    public MethodInvoker(ConnectionRegistry connections, IdentityRegistry identities, TimeProvider time)
    {
        ArgumentNullException.ThrowIfNull(connections);
        ArgumentNullException.ThrowIfNull(identities);
        _connections = connections;
        _identities = identities;
        _time = time ?? TimeProvider.System;
        connections.SubscriptionsChanged += proxy => WakeWaiters(proxy.Context.IdentityKey);
        connections.ConnectionChanged += (context, connected) =>
        {
            if (connected)
            {
                WakeWaiters(context.IdentityKey);
            }
        };
    }

    /// <summary>Raised (with the identity key) when an invocation starts waiting for its device to connect and subscribe.</summary>
    public event Action<string>? WaitingForDevice;

    /// <summary>Requests waiting for their device's answer.</summary>
    public int PendingCount => _pending.Count;

    /// <summary>Invokes a method and returns the device's answer.</summary>
    public async Task<MethodResult> InvokeAsync(MethodRequest request, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(request);
        Validate(request);
        if (request.ModuleId is null)
        {
            _ = _identities.TryGetDevice(request.DeviceId) ?? throw IotHubErrors.DeviceNotFound(request.DeviceId);
        }
        else
        {
            _ = _identities.GetModule(request.DeviceId, request.ModuleId);
        }

        string identity = DeviceContext.IdentityKeyOf(request.DeviceId, request.ModuleId);
        var proxy = await WaitForSubscriberAsync(request, identity, cancellationToken).ConfigureAwait(false);
        string requestId = Interlocked.Increment(ref _nextRequestId).ToString("x", CultureInfo.InvariantCulture);
        var pending = new Pending(identity);
        _pending[requestId] = pending;
        try
        {
            // The response timeout starts before the request leaves, so it covers everything the device sees.
            var answer = pending.Answer.Task.WaitAsync(request.ResponseTimeout, _time, cancellationToken);
            if (!proxy.SendMethodRequest(request.MethodName, requestId, request.Payload))
            {
                throw NotOnline(identity);
            }

            return await answer.ConfigureAwait(false);
        }
        catch (TimeoutException)
        {
            throw new IotHubException(IotHubErrorCode.GatewayTimeout,
                string.Create(CultureInfo.InvariantCulture, $"Timed out waiting for the response from device {identity} to method '{request.MethodName}' ({request.ResponseTimeout.TotalSeconds} s)."));
        }
        finally
        {
            _pending.TryRemove(requestId, out _);
        }
    }

    /// <summary>
    /// A device answered request <paramref name="requestId"/>; false when no such request is waiting for that
    /// identity (it timed out, or another device guessed the id). The payload is copied.
    /// </summary>
    public bool Complete(DeviceContext device, string requestId, int status, ReadOnlySpan<byte> payload)
    {
        ArgumentNullException.ThrowIfNull(device);
        if (!_pending.TryGetValue(requestId, out var pending) || pending.Identity != device.IdentityKey)
        {
            return false;
        }

        byte[]? body = IsBlank(payload) ? null : payload.ToArray();
        return pending.Answer.TrySetResult(new MethodResult(status, body));
    }

    private async Task<IDeviceProxy> WaitForSubscriberAsync(MethodRequest request, string identity, CancellationToken cancellationToken)
    {
        if (TrySubscriber(request, out var proxy))
        {
            return proxy;
        }

        if (request.ConnectTimeout <= TimeSpan.Zero)
        {
            throw NotOnline(identity);
        }

        using var timeout = new CancellationTokenSource(request.ConnectTimeout, _time);
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(timeout.Token, cancellationToken);
        var waiters = _waitingForSubscription.GetOrAdd(identity, static _ => new ConcurrentDictionary<TaskCompletionSource, byte>());
        bool announced = false;
        while (true)
        {
            var signal = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            waiters[signal] = 0;
            try
            {
                // Checked after registering, so a subscription that lands in between is not missed.
                if (TrySubscriber(request, out proxy))
                {
                    return proxy;
                }

                if (!announced)
                {
                    announced = true;
                    WaitingForDevice?.Invoke(identity);
                }

                await signal.Task.WaitAsync(linked.Token).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (timeout.IsCancellationRequested && !cancellationToken.IsCancellationRequested)
            {
                throw NotOnline(identity);
            }
            finally
            {
                waiters.TryRemove(signal, out _);
            }
        }
    }

    private bool TrySubscriber(MethodRequest request, [System.Diagnostics.CodeAnalysis.NotNullWhen(true)] out IDeviceProxy? proxy)
        => _connections.TryGet(request.DeviceId, request.ModuleId, out proxy) && (proxy.Subscriptions & DeviceSubscriptions.Methods) != 0;

    private void WakeWaiters(string identity)
    {
        if (_waitingForSubscription.TryGetValue(identity, out var waiters))
        {
            foreach (var signal in waiters.Keys)
            {
                signal.TrySetResult();
            }
        }
    }

    private static void Validate(MethodRequest request)
    {
        if (!IsValidMethodName(request.MethodName))
        {
            throw IotHubErrors.ArgumentInvalid($"'{request.MethodName}' is not a valid method name: printable US-ASCII without spaces or $ ( ) < > @ , ; : \\ \" / [ ] ? = {{ }}.");
        }

        if (request.ResponseTimeout < MinResponseTimeout || request.ResponseTimeout > MaxTimeout)
        {
            throw IotHubErrors.ArgumentInvalid("responseTimeoutInSeconds must be between 5 and 300.");
        }

        if (request.ConnectTimeout < TimeSpan.Zero || request.ConnectTimeout > MaxTimeout)
        {
            throw IotHubErrors.ArgumentInvalid("connectTimeoutInSeconds must be between 0 and 300.");
        }

        if (request.Payload.Length > MaxPayloadBytes)
        {
            throw new IotHubException(IotHubErrorCode.MessageTooLarge, $"The method payload is {request.Payload.Length} bytes; at most {MaxPayloadBytes} are allowed.");
        }

        if (!IsBlank(request.Payload.Span))
        {
            try
            {
                var reader = new Utf8JsonReader(request.Payload.Span);
                while (reader.Read())
                {
                }
            }
            catch (JsonException)
            {
                throw IotHubErrors.ArgumentInvalid("The method payload is not valid JSON.");
            }
        }
    }

    /// <summary>IoT Hub's method-name rule: printable US-ASCII except <c>$ ( ) &lt; &gt; @ , ; : \ " / [ ] ? = { }</c>, space and tab.</summary>
    public static bool IsValidMethodName(string? name)
    {
        if (string.IsNullOrEmpty(name) || name.Length > 128)
        {
            return false;
        }

        foreach (char c in name)
        {
            if (c <= ' ' || c >= 0x7f || "$()<>@,;:\\\"/[]?={}".IndexOf(c, StringComparison.Ordinal) >= 0)
            {
                return false;
            }
        }

        return true;
    }

    private static bool IsBlank(ReadOnlySpan<byte> payload) => payload.Trim(" \t\r\n"u8).IsEmpty;

    private static IotHubException NotOnline(string identity)
        => new(IotHubErrorCode.DeviceNotOnline, $"Device {identity} is not online or has not subscribed to direct methods.");

    private sealed class Pending(string identity)
    {
        public string Identity { get; } = identity;

        public TaskCompletionSource<MethodResult> Answer { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
    }
}
