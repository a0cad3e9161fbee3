using System.Text;
using System.Text.Json;
using Broker.Host.Tests.Support;
using Broker.IntegrationTests.Support;
using Broker.Management.V1;
using Grpc.Core;
using MQTTnet.Protocol;

namespace Broker.IntegrationTests.Twins;

/// <summary>Issue #6: device twins over MQTT, with the service side through the management API.</summary>
public sealed class TwinMqttTests : IAsyncLifetime
{
    private TestBroker _broker = null!;
    private ManagementApi _api = null!;

    public async Task InitializeAsync()
    {
        _broker = await TestBroker.StartAsync();
        _api = ManagementApi.Connect(_broker);
    }

    public async Task DisposeAsync()
    {
        _api.Dispose();
        await _broker.DisposeAsync();
    }

    [Fact]
    public async Task Get_WithNodesOneSpaceBody_AnswersTheDeviceViewUnwrapped()
    {
        await using var device = await ConnectWithTwinAsync("twin-get");

        await device.PublishAsync("$iothub/twin/GET/?$rid=abc-1", " ");
        var response = await device.ReceiveAsync();

        Assert.Equal("$iothub/twin/res/200/?$rid=abc-1", response.ApplicationMessage.Topic);
        using var view = JsonDocument.Parse(response.ApplicationMessage.Payload);
        Assert.False(view.RootElement.TryGetProperty("properties", out _));
        Assert.Equal(1, view.RootElement.GetProperty("desired").GetProperty("$version").GetInt64());
        Assert.Equal(1, view.RootElement.GetProperty("reported").GetProperty("$version").GetInt64());
    }

    [Fact]
    public async Task ReportedPatch_Answers204WithTheNewVersion_AndTheServiceSeesIt()
    {
        await using var device = await ConnectWithTwinAsync("twin-reported");

        await device.PublishAsync("$iothub/twin/PATCH/properties/reported/?$rid=r1", """{"firmware":"1.2","battery":{"level":80}}""");
        var first = await device.ReceiveAsync();
        await device.PublishAsync("$iothub/twin/PATCH/properties/reported/?$rid=r2", """{"battery":{"level":null,"charging":true}}""");
        var second = await device.ReceiveAsync();

        Assert.Equal("$iothub/twin/res/204/?$rid=r1&$version=2", first.ApplicationMessage.Topic);
        Assert.True(first.ApplicationMessage.Payload.IsEmpty);
        Assert.Equal("$iothub/twin/res/204/?$rid=r2&$version=3", second.ApplicationMessage.Topic);
        var twin = await GetTwinAsync(device.DeviceId);
        var reported = twin.GetProperty("properties").GetProperty("reported");
        Assert.Equal("1.2", reported.GetProperty("firmware").GetString());
        Assert.False(reported.GetProperty("battery").TryGetProperty("level", out _));
        Assert.True(reported.GetProperty("battery").GetProperty("charging").GetBoolean());
        Assert.Equal(3, reported.GetProperty("$version").GetInt64());
    }

    [Fact]
    public async Task ReportedPatch_BreakingTheRules_AnswersAnErrorWithAJsonErrorCode()
    {
        await using var device = await ConnectWithTwinAsync("twin-bad");

        await device.PublishAsync("$iothub/twin/PATCH/properties/reported/?$rid=bad1", """{"a.b":1}""");
        var response = await device.ReceiveAsync();

        Assert.Equal("$iothub/twin/res/400/?$rid=bad1", response.ApplicationMessage.Topic);
        using var body = JsonDocument.Parse(response.ApplicationMessage.Payload);
        Assert.Equal(400004, body.RootElement.GetProperty("errorCode").GetInt32());
    }

    [Fact]
    public async Task ReportedPatch_Over32KB_IsRejectedAndTheTwinIsUnchanged()
    {
        await using var device = await ConnectWithTwinAsync("twin-big");
        var big = JsonSerializer.Serialize(Enumerable.Range(0, 10).ToDictionary(i => $"k{i}", _ => new string('x', 4000)));

        await device.PublishAsync("$iothub/twin/PATCH/properties/reported/?$rid=big", big);
        var response = await device.ReceiveAsync();

        Assert.Equal("$iothub/twin/res/400/?$rid=big", response.ApplicationMessage.Topic);
        var twin = await GetTwinAsync(device.DeviceId);
        Assert.Equal(1, twin.GetProperty("properties").GetProperty("reported").GetProperty("$version").GetInt64());
    }

    [Fact]
    public async Task DesiredUpdate_ReachesASubscribedDeviceWithItsVersion()
    {
        await using var device = await ConnectWithTwinAsync("twin-desired");
        await device.SubscribeAsync("$iothub/twin/PATCH/properties/desired/#", MqttQualityOfServiceLevel.AtMostOnce);

        await _api.Twins.UpdateTwinAsync(new UpdateTwinRequest
        {
            DeviceId = device.DeviceId,
            TwinJson = """{"properties":{"desired":{"interval":5,"mode":"eco"}}}""",
        }, _api.Call());
        var patch = await device.ReceiveAsync();

        Assert.Equal("$iothub/twin/PATCH/properties/desired/?$version=2", patch.ApplicationMessage.Topic);
        using var body = JsonDocument.Parse(patch.ApplicationMessage.Payload);
        Assert.Equal(5, body.RootElement.GetProperty("interval").GetInt32());
        Assert.Equal(2, body.RootElement.GetProperty("$version").GetInt64());
    }

    [Fact]
    public async Task DesiredUpdate_WithAStaleEtag_Fails412001()
    {
        var created = await _broker.CreateDeviceAsync("twin-etag");
        var etag = (await GetTwinAsync(created.DeviceId)).GetProperty("etag").GetString()!;
        await _api.Twins.UpdateTwinAsync(new UpdateTwinRequest { DeviceId = created.DeviceId, TwinJson = """{"tags":{"site":"a"}}""", IfMatch = $"\"{etag}\"" }, _api.Call());

        var error = await Assert.ThrowsAsync<RpcException>(async () => await _api.Twins.UpdateTwinAsync(
            new UpdateTwinRequest { DeviceId = created.DeviceId, TwinJson = """{"tags":{"site":"b"}}""", IfMatch = $"\"{etag}\"" }, _api.Call()));
        DirectMethodsAssert(error, "PreconditionFailed", 412001);
    }

    [Fact]
    public async Task Twin_SurvivesABrokerRestart()
    {
        await using (var device = await ConnectWithTwinAsync("twin-restart"))
        {
            await device.PublishAsync("$iothub/twin/PATCH/properties/reported/?$rid=r", """{"kept":true}""");
            _ = await device.ReceiveAsync();
        }

        await _api.Twins.UpdateTwinAsync(new UpdateTwinRequest { DeviceId = "twin-restart", TwinJson = """{"tags":{"floor":3}}""" }, _api.Call());
        _api.Dispose();
        await _broker.RestartAsync();
        _api = ManagementApi.Connect(_broker);

        var twin = await GetTwinAsync("twin-restart");
        Assert.True(twin.GetProperty("properties").GetProperty("reported").GetProperty("kept").GetBoolean());
        Assert.Equal(3, twin.GetProperty("tags").GetProperty("floor").GetInt32());
    }

    private async Task<TestDevice> ConnectWithTwinAsync(string deviceId)
    {
        var created = await _broker.CreateDeviceAsync(deviceId);
        var device = await TestDevice.ConnectAsync(_broker, deviceId, TestBroker.PrimaryKeyOf(created));
        await device.SubscribeAsync("$iothub/twin/res/#", MqttQualityOfServiceLevel.AtMostOnce);
        return device;
    }

    private async Task<JsonElement> GetTwinAsync(string deviceId)
    {
        var reply = await _api.Twins.GetTwinAsync(new GetTwinRequest { DeviceId = deviceId }, _api.Call());
        return JsonDocument.Parse(reply.TwinJson).RootElement.Clone();
    }

    private static void DirectMethodsAssert(RpcException error, string name, int code) => Methods.DirectMethodMqttTests.AssertHubError(error, name, code);
}
