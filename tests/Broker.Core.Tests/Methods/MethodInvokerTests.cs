using System.Text;
using Broker.Core.Errors;
using Broker.Core.Hub;
using Broker.Core.Methods;
using Broker.Core.Registry;
using Broker.Storage.Faster;
using Microsoft.Extensions.Time.Testing;

namespace Broker.Core.Tests.Methods;

public sealed class MethodInvokerTests : IAsyncLifetime
{
    private const string Dev = "dev1";
    private static readonly TimeSpan Hang = TimeSpan.FromSeconds(30);

    private readonly TempDirectory _directory = new();
    private readonly FakeTimeProvider _time = new(TestStores.Start);
    private FasterHubStore _store = null!;
    private IdentityRegistry _identities = null!;
    private ConnectionRegistry _connections = null!;
    private MethodInvoker _invoker = null!;

    public async Task InitializeAsync()
    {
        // the store keeps its own clock, so advancing the invoker's time never triggers checkpoints
        _store = TestStores.Open(TestStores.SmallOptions(_directory.Path), new FakeTimeProvider(TestStores.Start));
        _identities = new IdentityRegistry(_store, _time);
        _connections = new ConnectionRegistry(_identities, _time);
        _invoker = new MethodInvoker(_connections, _identities, _time);
        await _identities.CreateDeviceAsync(new Device { DeviceId = Dev });
        await _identities.CreateDeviceAsync(new Device { DeviceId = "dev2" });
    }

    public async Task DisposeAsync()
    {
        await _store.DisposeAsync();
        _directory.Dispose();
    }

    private static MethodRequest Request(string method = "reboot", string? payload = null, int responseTimeout = 30, int connectTimeout = 0,
        string deviceId = Dev, string? moduleId = null) => new()
    {
        DeviceId = deviceId,
        ModuleId = moduleId,
        MethodName = method,
        Payload = payload is null ? ReadOnlyMemory<byte>.Empty : Encoding.UTF8.GetBytes(payload),
        ResponseTimeout = TimeSpan.FromSeconds(responseTimeout),
        ConnectTimeout = TimeSpan.FromSeconds(connectTimeout),
    };

    private TestDeviceProxy Connect(string deviceId = Dev, string? moduleId = null, DeviceSubscriptions subscriptions = DeviceSubscriptions.Methods)
    {
        var proxy = new TestDeviceProxy(deviceId, moduleId, subscriptions);
        _connections.Register(proxy);
        return proxy;
    }

    private static async Task<IotHubException> ThrowsIotHubAsync(IotHubErrorCode code, Func<Task> action)
    {
        var error = await Assert.ThrowsAsync<IotHubException>(() => action().WaitAsync(Hang));
        Assert.Equal(code, error.Code);
        return error;
    }

    [Fact]
    public async Task Invoke_ConnectedAndSubscribed_RequestReachesTheDevice_CompleteResolvesWithStatusAndPayload()
    {
        var proxy = Connect();
        var invocation = _invoker.InvokeAsync(Request("reboot", """{"delay":5}"""));

        var sent = Assert.Single(proxy.MethodRequests);
        Assert.Equal("reboot", sent.MethodName);
        Assert.False(string.IsNullOrEmpty(sent.RequestId));
        Assert.Equal("""{"delay":5}""", Encoding.UTF8.GetString(sent.Payload));
        Assert.Equal(1, _invoker.PendingCount);
        Assert.False(invocation.IsCompleted);

        Assert.True(_invoker.Complete(proxy.Context, sent.RequestId, 201, """{"ok":true}"""u8));

        var result = await invocation.WaitAsync(Hang);
        Assert.Equal(201, result.Status);
        Assert.Equal("""{"ok":true}""", Encoding.UTF8.GetString(result.Payload!));
        Assert.Equal(0, _invoker.PendingCount);
        Assert.False(_invoker.Complete(proxy.Context, sent.RequestId, 200, "{}"u8)); // answered already
    }

    [Fact]
    public async Task Invoke_EachRequestGetsItsOwnRequestId()
    {
        var proxy = Connect();
        var first = _invoker.InvokeAsync(Request("a"));
        var second = _invoker.InvokeAsync(Request("b"));
        var sent = proxy.MethodRequests.ToArray();
        Assert.Equal(2, sent.Length);
        Assert.NotEqual(sent[0].RequestId, sent[1].RequestId);

        Assert.True(_invoker.Complete(proxy.Context, sent[1].RequestId, 2, "\"b\""u8));
        Assert.True(_invoker.Complete(proxy.Context, sent[0].RequestId, 1, "\"a\""u8));
        Assert.Equal(1, (await first.WaitAsync(Hang)).Status);
        Assert.Equal(2, (await second.WaitAsync(Hang)).Status);
    }

    [Fact]
    public async Task Complete_BlankPayload_ResolvesWithNullPayload()
    {
        var proxy = Connect();
        var invocation = _invoker.InvokeAsync(Request());
        Assert.True(_invoker.Complete(proxy.Context, Assert.Single(proxy.MethodRequests).RequestId, 200, " \r\n"u8));
        var result = await invocation.WaitAsync(Hang);
        Assert.Equal(200, result.Status);
        Assert.Null(result.Payload);
    }

    [Fact]
    public async Task Complete_FromAnotherIdentity_IsRefused_AndDoesNotResolve()
    {
        var proxy = Connect();
        var intruder = Connect("dev2");
        var module = new TestDeviceProxy(Dev, "mod1", DeviceSubscriptions.Methods); // same device, other identity
        var invocation = _invoker.InvokeAsync(Request());
        string requestId = Assert.Single(proxy.MethodRequests).RequestId;

        Assert.False(_invoker.Complete(intruder.Context, requestId, 500, "{}"u8));
        Assert.False(_invoker.Complete(module.Context, requestId, 500, "{}"u8));
        Assert.False(_invoker.Complete(proxy.Context, "no-such-request", 500, "{}"u8));
        Assert.False(invocation.IsCompleted);
        Assert.Equal(1, _invoker.PendingCount);

        Assert.True(_invoker.Complete(proxy.Context, requestId, 200, "null"u8));
        Assert.Equal(200, (await invocation.WaitAsync(Hang)).Status);
    }

    [Fact]
    public async Task Invoke_NotConnected_ConnectTimeoutZero_Fails404103AtOnce()
    {
        await ThrowsIotHubAsync(IotHubErrorCode.DeviceNotOnline, () => _invoker.InvokeAsync(Request()));
        Assert.Equal(0, _invoker.PendingCount);
    }

    [Theory]
    [InlineData(DeviceSubscriptions.None)]
    [InlineData(DeviceSubscriptions.CloudToDevice | DeviceSubscriptions.TwinResponses | DeviceSubscriptions.DesiredProperties)]
    public async Task Invoke_ConnectedButNotSubscribed_ConnectTimeoutZero_Fails404103AtOnce(DeviceSubscriptions subscriptions)
    {
        var proxy = Connect(subscriptions: subscriptions);
        await ThrowsIotHubAsync(IotHubErrorCode.DeviceNotOnline, () => _invoker.InvokeAsync(Request()));
        Assert.Empty(proxy.MethodRequests);
        Assert.Equal(0, _invoker.PendingCount);
    }

    [Fact]
    public async Task Invoke_DeviceCannotTakeTheRequest_Fails404103()
    {
        var proxy = Connect();
        proxy.AcceptMethodRequests = false;
        await ThrowsIotHubAsync(IotHubErrorCode.DeviceNotOnline, () => _invoker.InvokeAsync(Request()));
        Assert.Equal(0, _invoker.PendingCount);
    }

    [Fact]
    public async Task Invoke_ConnectTimeout_WaitsForTheDeviceToConnectAndSubscribe()
    {
        var invocation = _invoker.InvokeAsync(Request(connectTimeout: 60));
        Assert.False(invocation.IsCompleted);

        // connected, but not yet subscribed: still waiting
        var proxy = Connect(subscriptions: DeviceSubscriptions.None);
        _time.Advance(TimeSpan.FromSeconds(30));
        Assert.False(invocation.IsCompleted);
        Assert.Empty(proxy.MethodRequests);

        proxy.Subscriptions = DeviceSubscriptions.Methods;
        _connections.NotifySubscriptionsChanged(proxy);

        var sent = await proxy.FirstMethodRequest.WaitAsync(Hang);
        Assert.True(_invoker.Complete(proxy.Context, sent.RequestId, 200, "{}"u8));
        var result = await invocation.WaitAsync(Hang);
        Assert.Equal(200, result.Status);
        Assert.Equal("{}", Encoding.UTF8.GetString(result.Payload!));
    }

    [Fact]
    public async Task Invoke_ConnectTimeout_ASubscribedConnectionReleasesTheWait()
    {
        var invocation = _invoker.InvokeAsync(Request(connectTimeout: 10));
        Assert.False(invocation.IsCompleted);

        var proxy = Connect();

        var sent = await proxy.FirstMethodRequest.WaitAsync(Hang);
        Assert.True(_invoker.Complete(proxy.Context, sent.RequestId, 204, ReadOnlySpan<byte>.Empty));
        Assert.Equal(204, (await invocation.WaitAsync(Hang)).Status);
    }

    [Fact]
    public async Task Invoke_ConnectTimeout_AnotherDevicesSubscriptionDoesNotRelease()
    {
        var invocation = _invoker.InvokeAsync(Request(connectTimeout: 10));
        var other = Connect("dev2");
        _connections.NotifySubscriptionsChanged(other);
        Assert.Empty(other.MethodRequests);

        _time.Advance(TimeSpan.FromSeconds(10));
        await ThrowsIotHubAsync(IotHubErrorCode.DeviceNotOnline, () => invocation);
        Assert.Empty(other.MethodRequests);
    }

    [Fact]
    public async Task Invoke_ConnectTimeoutPassesWithoutASubscriber_Fails404103()
    {
        var proxy = Connect(subscriptions: DeviceSubscriptions.CloudToDevice);
        var invocation = _invoker.InvokeAsync(Request(connectTimeout: 20));
        _time.Advance(TimeSpan.FromSeconds(20) - TimeSpan.FromTicks(1));
        Assert.False(invocation.IsCompleted);

        _time.Advance(TimeSpan.FromTicks(1));

        await ThrowsIotHubAsync(IotHubErrorCode.DeviceNotOnline, () => invocation);
        Assert.Empty(proxy.MethodRequests);
        Assert.Equal(0, _invoker.PendingCount);
    }

    [Fact]
    public async Task Invoke_Cancelled_WhileWaitingForTheDevice_IsCancellationNot404103()
    {
        using var cancellation = new CancellationTokenSource();
        var invocation = _invoker.InvokeAsync(Request(connectTimeout: 60), cancellation.Token);
        await cancellation.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => invocation.WaitAsync(Hang));
    }

    [Fact]
    public async Task Invoke_ResponseTimeout_Fails504101_AndForgetsTheRequest()
    {
        var proxy = Connect();
        var invocation = _invoker.InvokeAsync(Request(responseTimeout: 5));
        string requestId = Assert.Single(proxy.MethodRequests).RequestId;

        _time.Advance(TimeSpan.FromSeconds(5) - TimeSpan.FromTicks(1));
        Assert.False(invocation.IsCompleted);
        _time.Advance(TimeSpan.FromTicks(1));

        await ThrowsIotHubAsync(IotHubErrorCode.GatewayTimeout, () => invocation);
        Assert.Equal(0, _invoker.PendingCount);
        Assert.False(_invoker.Complete(proxy.Context, requestId, 200, "{}"u8)); // too late
    }

    [Fact]
    public async Task Invoke_ResponseTimeoutOf300Seconds_IsHonoured()
    {
        var proxy = Connect();
        var invocation = _invoker.InvokeAsync(Request(responseTimeout: 300));
        _time.Advance(TimeSpan.FromSeconds(299));
        Assert.False(invocation.IsCompleted);
        _time.Advance(TimeSpan.FromSeconds(1));
        await ThrowsIotHubAsync(IotHubErrorCode.GatewayTimeout, () => invocation);
        Assert.Single(proxy.MethodRequests);
    }

    [Theory]
    [InlineData("")]
    [InlineData("has space")]
    [InlineData("tab\t")]
    [InlineData("$method")]
    [InlineData("a(b")]
    [InlineData("a)b")]
    [InlineData("a<b")]
    [InlineData("a>b")]
    [InlineData("a@b")]
    [InlineData("a,b")]
    [InlineData("a;b")]
    [InlineData("a:b")]
    [InlineData("a\\b")]
    [InlineData("a\"b")]
    [InlineData("a/b")]
    [InlineData("a[b")]
    [InlineData("a]b")]
    [InlineData("a?b")]
    [InlineData("a=b")]
    [InlineData("a{b")]
    [InlineData("a}b")]
    [InlineData("caf\u00e9")]
    [InlineData("del\u007f")]
    public async Task Invoke_InvalidMethodName_Fails400004(string name)
    {
        Connect();
        await ThrowsIotHubAsync(IotHubErrorCode.ArgumentInvalid, () => _invoker.InvokeAsync(Request(name)));
        Assert.False(MethodInvoker.IsValidMethodName(name));
    }

    [Theory]
    [InlineData("reboot")]
    [InlineData("Get-Status_v2.1~!#%&'*+^`|")]
    public void IsValidMethodName_AcceptsPrintableAsciiOutsideTheSeparators(string name)
        => Assert.True(MethodInvoker.IsValidMethodName(name));

    [Theory]
    [InlineData(4, 0)]
    [InlineData(301, 0)]
    [InlineData(0, 0)]
    [InlineData(30, -1)]
    [InlineData(30, 301)]
    public async Task Invoke_TimeoutsOutOfRange_Fail400004(int responseTimeout, int connectTimeout)
    {
        Connect();
        await ThrowsIotHubAsync(IotHubErrorCode.ArgumentInvalid, () => _invoker.InvokeAsync(Request(responseTimeout: responseTimeout, connectTimeout: connectTimeout)));
    }

    [Theory]
    [InlineData(5, 0)]
    [InlineData(300, 300)]
    public async Task Invoke_TimeoutsAtTheLimits_AreAccepted(int responseTimeout, int connectTimeout)
    {
        var proxy = Connect();
        var invocation = _invoker.InvokeAsync(Request(responseTimeout: responseTimeout, connectTimeout: connectTimeout));
        Assert.True(_invoker.Complete(proxy.Context, Assert.Single(proxy.MethodRequests).RequestId, 200, "{}"u8));
        Assert.Equal(200, (await invocation.WaitAsync(Hang)).Status);
    }

    [Fact]
    public async Task Invoke_PayloadOver128KB_Fails413001()
    {
        Connect();
        var tooLarge = new byte[MethodInvoker.MaxPayloadBytes + 1];
        tooLarge.AsSpan().Fill((byte)' ');
        tooLarge[0] = (byte)'1';
        var error = await Assert.ThrowsAsync<IotHubException>(() => _invoker.InvokeAsync(Request() with { Payload = tooLarge }).WaitAsync(Hang));
        Assert.Equal(IotHubErrorCode.MessageTooLarge, error.Code);
    }

    [Fact]
    public async Task Invoke_PayloadOf128KB_IsAccepted()
    {
        var proxy = Connect();
        var payload = Encoding.ASCII.GetBytes("\"" + new string('x', MethodInvoker.MaxPayloadBytes - 2) + "\"");
        var invocation = _invoker.InvokeAsync(Request() with { Payload = payload });
        var sent = Assert.Single(proxy.MethodRequests);
        Assert.Equal(payload, sent.Payload);
        Assert.True(_invoker.Complete(proxy.Context, sent.RequestId, 200, "{}"u8));
        await invocation.WaitAsync(Hang);
    }

    [Theory]
    [InlineData("{")]
    [InlineData("{\"a\":}")]
    [InlineData("abc")]
    [InlineData("1 2")]
    [InlineData("{\"a\":1}}")]
    [InlineData("'single'")]
    public async Task Invoke_InvalidJsonPayload_Fails400004(string payload)
    {
        var proxy = Connect();
        await ThrowsIotHubAsync(IotHubErrorCode.ArgumentInvalid, () => _invoker.InvokeAsync(Request(payload: payload)));
        Assert.Empty(proxy.MethodRequests);
    }

    [Theory]
    [InlineData("")]
    [InlineData("null")]
    [InlineData("42")]
    [InlineData("\"text\"")]
    [InlineData("[1,{\"a\":null}]")]
    public async Task Invoke_ValidJsonOrNoPayload_IsSent(string payload)
    {
        var proxy = Connect();
        var invocation = _invoker.InvokeAsync(Request(payload: payload));
        var sent = Assert.Single(proxy.MethodRequests);
        Assert.Equal(payload, Encoding.UTF8.GetString(sent.Payload));
        Assert.True(_invoker.Complete(proxy.Context, sent.RequestId, 200, ReadOnlySpan<byte>.Empty));
        await invocation.WaitAsync(Hang);
    }

    [Fact]
    public async Task Invoke_UnknownDevice_Fails404001()
    {
        await ThrowsIotHubAsync(IotHubErrorCode.DeviceNotFound, () => _invoker.InvokeAsync(Request(deviceId: "nobody")));
        await ThrowsIotHubAsync(IotHubErrorCode.DeviceNotFound, () => _invoker.InvokeAsync(Request(deviceId: "nobody", connectTimeout: 30)));
    }

    [Fact]
    public async Task Invoke_Module_ReachesTheModulesConnection_UnknownModuleFails404010()
    {
        await _identities.CreateModuleAsync(new Module { DeviceId = Dev, ModuleId = "mod1" });
        var deviceProxy = Connect();
        var moduleProxy = Connect(Dev, "mod1");

        var invocation = _invoker.InvokeAsync(Request(moduleId: "mod1"));
        Assert.Empty(deviceProxy.MethodRequests);
        var sent = Assert.Single(moduleProxy.MethodRequests);
        Assert.False(_invoker.Complete(deviceProxy.Context, sent.RequestId, 200, "{}"u8));
        Assert.True(_invoker.Complete(moduleProxy.Context, sent.RequestId, 200, "{}"u8));
        await invocation.WaitAsync(Hang);

        await ThrowsIotHubAsync(IotHubErrorCode.ModuleNotFound, () => _invoker.InvokeAsync(Request(moduleId: "nomod")));
    }
}
