using System.Net;
using System.Net.Sockets;
using System.Text;
using System.Text.Json;
using Broker.Host.Tests.Support;
using Broker.Plugins.Loading;
using Broker.Plugins.Tests.Support;
using Microsoft.Extensions.DependencyInjection;
using MQTTnet;
using MQTTnet.Protocol;
using Xunit.Abstractions;

namespace Broker.Plugins.Tests;

/// <summary>
/// The sample routing endpoint, built against the packed contract package and dropped into a real broker's
/// plug-ins folder: the messages a route sends to it reach an HTTP listener on loopback.
/// </summary>
[Collection(PluginsCollection.Name)]
public sealed class WebhookSampleTests(PluginBuildFixture fixture, ITestOutputHelper output)
{
    private const string Name = PluginBuildFixture.WebhookSample;
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(30);

    [Fact]
    public async Task Broker_RoutesToTheSampleWebhookSink_EventsReachTheWebhook_AFailedPostIsRetried()
    {
        var plugins = fixture.NewPluginsDirectory();
        string folder = plugins.Add(Name, Name);
        int port = FreePort();
        using var listener = new HttpListener();
        listener.Prefixes.Add($"http://127.0.0.1:{port}/hook/");
        listener.Start();

        await using var broker = await TestBroker.StartAsync(new TestBrokerOptions
        {
            Output = output,
            Settings = new Dictionary<string, string?>
            {
                ["Plugins:Directory"] = plugins.Path,
                ["Plugins:WebhookSink:Url"] = $"http://127.0.0.1:{port}/hook/",
                ["Routing:Routes:0:Name"] = "critical",
                ["Routing:Routes:0:Condition"] = "level = 'critical'",
                ["Routing:Routes:0:Endpoints:0"] = "webhook",
            },
        });
        Assert.Contains(broker.Services.GetRequiredService<PluginCatalog>().Plugins, plugin => plugin.Name == Name && plugin.Directory == folder);

        var device = await broker.CreateDeviceAsync("webhook-device");
        using var client = new MqttClientFactory().CreateMqttClient();
        await client.ConnectAsync(DeviceMqtt.Options(broker, device.DeviceId, broker.CreateSasToken(device.DeviceId, TestBroker.PrimaryKeyOf(device)), tls: false));
        foreach (var (level, body) in new[] { ("info", "ignored"), ("critical", "overheating") })
        {
            await client.PublishAsync(new MqttApplicationMessageBuilder()
                .WithTopic($"devices/{device.DeviceId}/messages/events/level={level}")
                .WithPayload(body)
                .WithQualityOfServiceLevel(MqttQualityOfServiceLevel.AtLeastOnce)
                .Build());
        }

        // The first POST is refused: the broker offers the same batch again.
        var first = await NextPostAsync(listener, HttpStatusCode.ServiceUnavailable);
        var second = await NextPostAsync(listener, HttpStatusCode.OK);
        Assert.Equal(first.GetRawText(), second.GetRawText());
        var message = Assert.Single(second.EnumerateArray());
        Assert.Equal(device.DeviceId, message.GetProperty("deviceId").GetString());
        Assert.Equal("critical", message.GetProperty("properties").GetProperty("level").GetString());
        Assert.Equal("overheating", Encoding.UTF8.GetString(message.GetProperty("body").GetBytesFromBase64()));
        await client.DisconnectAsync();
    }

    private static async Task<JsonElement> NextPostAsync(HttpListener listener, HttpStatusCode answer)
    {
        var context = await listener.GetContextAsync().WaitAsync(Bound);
        Assert.Equal("POST", context.Request.HttpMethod);
        using var reader = new StreamReader(context.Request.InputStream, Encoding.UTF8);
        string body = await reader.ReadToEndAsync();
        context.Response.StatusCode = (int)answer;
        context.Response.Close();
        using var json = JsonDocument.Parse(body);
        return json.RootElement.Clone();
    }

    private static int FreePort()
    {
        using var socket = new TcpListener(IPAddress.Loopback, 0);
        socket.Start();
        return ((IPEndPoint)socket.LocalEndpoint).Port;
    }
}
