using System.Text;
using System.Text.Json;
using Broker.Core.Methods;
using Broker.Host.Tests.Support;
using Broker.IntegrationTests.Support;
using Broker.Management.V1;
using Grpc.Core;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;
using MQTTnet.Protocol;

namespace Broker.IntegrationTests.Methods;

/// <summary>Issue #6: direct methods over MQTT, invoked through the management API.</summary>
public sealed class DirectMethodMqttTests : IAsyncLifetime
{
    private const string MethodsFilter = "$iothub/methods/POST/#";
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(30);
    private readonly FakeTimeProvider _time = new(DateTimeOffset.UtcNow);
    private TestBroker _broker = null!;
    private ManagementApi _api = null!;

    public async Task InitializeAsync()
    {
        _broker = await TestBroker.StartAsync(new TestBrokerOptions { Time = _time });
        _api = ManagementApi.Connect(_broker);
    }

    public async Task DisposeAsync()
    {
        _api.Dispose();
        await _broker.DisposeAsync();
    }

    [Fact]
    public async Task Invoke_SubscribedDevice_GetsTheRequestAndItsAnswerComesBackAsStatusAndPayload()
    {
        await using var device = await ConnectAsync("method-ok");
        await device.SubscribeAsync(MethodsFilter, MqttQualityOfServiceLevel.AtMostOnce);

        var invocation = InvokeAsync(device.DeviceId, "reboot", """{"delay":5}""");
        var request = await device.ReceiveAsync();
        var topic = request.ApplicationMessage.Topic;
        Assert.StartsWith("$iothub/methods/POST/reboot/?$rid=", topic, StringComparison.Ordinal);
        Assert.Equal(MqttQualityOfServiceLevel.AtMostOnce, request.ApplicationMessage.QualityOfServiceLevel);
        Assert.Equal("""{"delay":5}""", Encoding.UTF8.GetString(request.ApplicationMessage.Payload));
        string rid = topic["$iothub/methods/POST/reboot/?$rid=".Length..];
        await device.PublishAsync($"$iothub/methods/res/201/?$rid={rid}", """{"rebooting":true}""");

        var reply = await invocation.WaitAsync(Bound);
        Assert.Equal(201, reply.Status);
        Assert.True(JsonDocument.Parse(reply.PayloadJson).RootElement.GetProperty("rebooting").GetBoolean());
    }

    [Fact]
    public async Task Invoke_DeviceAnswersWithAnEmptyBody_PayloadIsNull()
    {
        await using var device = await ConnectAsync("method-empty");
        await device.SubscribeAsync(MethodsFilter, MqttQualityOfServiceLevel.AtMostOnce);

        var invocation = InvokeAsync(device.DeviceId, "ping", "");
        var request = await device.ReceiveAsync();
        Assert.True(request.ApplicationMessage.Payload.IsEmpty);
        await device.PublishAsync($"$iothub/methods/res/200/?$rid={RequestIdOf(request.ApplicationMessage.Topic)}", "");

        var reply = await invocation.WaitAsync(Bound);
        Assert.Equal(200, reply.Status);
        Assert.Equal("null", reply.PayloadJson);
    }

    [Fact]
    public async Task Invoke_DeviceNotConnected_Fails404103()
    {
        await _broker.CreateDeviceAsync("method-offline");
        var error = await Assert.ThrowsAsync<RpcException>(() => InvokeAsync("method-offline", "reboot", "{}"));
        AssertHubError(error, "DeviceNotOnline", 404103);
    }

    [Fact]
    public async Task Invoke_ConnectedButNotSubscribed_Fails404103()
    {
        await using var device = await ConnectAsync("method-unsubscribed");
        var error = await Assert.ThrowsAsync<RpcException>(() => InvokeAsync(device.DeviceId, "reboot", "{}"));
        AssertHubError(error, "DeviceNotOnline", 404103);
    }

    [Fact]
    public async Task Invoke_WithAConnectTimeout_WaitsForTheDeviceToSubscribe()
    {
        var created = await _broker.CreateDeviceAsync("method-late");
        var invocation = InvokeAsync(created.DeviceId, "wake", "{}", connectTimeoutSeconds: 60);

        await using var device = await TestDevice.ConnectAsync(_broker, created.DeviceId, TestBroker.PrimaryKeyOf(created));
        await device.SubscribeAsync(MethodsFilter, MqttQualityOfServiceLevel.AtMostOnce);
        var request = await device.ReceiveAsync();
        await device.PublishAsync($"$iothub/methods/res/200/?$rid={RequestIdOf(request.ApplicationMessage.Topic)}", "\"awake\"");

        var reply = await invocation.WaitAsync(Bound);
        Assert.Equal("\"awake\"", reply.PayloadJson);
    }

    [Fact]
    public async Task Invoke_ConnectTimeoutEndsWithoutASubscriber_Fails404103()
    {
        await _broker.CreateDeviceAsync("method-never");
        var waiting = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        _broker.Services.GetRequiredService<MethodInvoker>().WaitingForDevice += identity =>
        {
            if (identity == "method-never")
            {
                waiting.TrySetResult();
            }
        };
        var invocation = InvokeAsync("method-never", "wake", "{}", connectTimeoutSeconds: 10);
        await waiting.Task.WaitAsync(Bound); // the connect timeout runs from here
        _time.Advance(TimeSpan.FromSeconds(11));

        var error = await Assert.ThrowsAsync<RpcException>(() => invocation.WaitAsync(Bound));
        AssertHubError(error, "DeviceNotOnline", 404103);
    }

    [Fact]
    public async Task Invoke_DeviceDoesNotAnswerInTime_Fails504101()
    {
        await using var device = await ConnectAsync("method-silent");
        await device.SubscribeAsync(MethodsFilter, MqttQualityOfServiceLevel.AtMostOnce);

        var invocation = InvokeAsync(device.DeviceId, "slow", "{}", responseTimeoutSeconds: 5);
        _ = await device.ReceiveAsync(); // the request is out: its response timeout runs from here
        _time.Advance(TimeSpan.FromSeconds(6));

        var error = await Assert.ThrowsAsync<RpcException>(() => invocation.WaitAsync(Bound));
        AssertHubError(error, "GatewayTimeout", 504101);
    }

    [Theory]
    [InlineData("bad name", 30, 0)]
    [InlineData("reboot", 4, 0)]
    [InlineData("reboot", 301, 0)]
    [InlineData("reboot", 30, 301)]
    public async Task Invoke_InvalidArguments_Fail400004(string method, int responseTimeout, int connectTimeout)
    {
        await _broker.CreateDeviceAsync($"method-args-{responseTimeout}-{connectTimeout}-{method.Length}");
        var error = await Assert.ThrowsAsync<RpcException>(
            () => InvokeAsync($"method-args-{responseTimeout}-{connectTimeout}-{method.Length}", method, "{}", responseTimeout, connectTimeout));
        AssertHubError(error, "ArgumentInvalid", 400004);
    }

    [Fact]
    public async Task Invoke_PayloadOver128KB_Fails413001()
    {
        await _broker.CreateDeviceAsync("method-big");
        string payload = "\"" + new string('x', 128 * 1024) + "\"";
        var error = await Assert.ThrowsAsync<RpcException>(() => InvokeAsync("method-big", "reboot", payload));
        AssertHubError(error, "MessageTooLarge", 413001);
    }

    private async Task<TestDevice> ConnectAsync(string deviceId)
    {
        var device = await _broker.CreateDeviceAsync(deviceId);
        return await TestDevice.ConnectAsync(_broker, deviceId, TestBroker.PrimaryKeyOf(device));
    }

    private async Task<InvokeMethodReply> InvokeAsync(string deviceId, string method, string payload, int responseTimeoutSeconds = 30, int connectTimeoutSeconds = 0)
        => await _api.Methods.InvokeMethodAsync(new InvokeMethodRequest
        {
            DeviceId = deviceId,
            MethodName = method,
            PayloadJson = payload,
            ResponseTimeoutSeconds = responseTimeoutSeconds,
            ConnectTimeoutSeconds = connectTimeoutSeconds,
        }, _api.Call());

    private static string RequestIdOf(string topic) => topic[(topic.IndexOf("?$rid=", StringComparison.Ordinal) + "?$rid=".Length)..];

    internal static void AssertHubError(RpcException error, string name, int code)
    {
        Assert.Equal(name, error.Trailers.GetValue("iothub-errorcode"));
        Assert.Contains(code.ToString(System.Globalization.CultureInfo.InvariantCulture), error.Status.Detail, StringComparison.Ordinal);
    }
}
