using System.Net;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using System.Text.Json;
using Broker.Core.CloudToDevice;
using Broker.Core.Registry;
using Broker.Host.Tests.Support;
using Broker.IntegrationTests.Amqp;
using Broker.IntegrationTests.Support;
using Broker.Management.V1;
using Microsoft.Extensions.DependencyInjection;

namespace Broker.IntegrationTests.DeviceApi;

/// <summary>IoT Hub's device HTTPS API, called as the SDKs' HTTP transports call it.</summary>
public sealed class DeviceHttpsApiTests : IAsyncLifetime
{
    private const string ApiVersion = "?api-version=2021-04-12";
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(30);
    private TestBroker _broker = null!;

    public async Task InitializeAsync()
        => _broker = await TestBroker.StartAsync(new TestBrokerOptions
        {
            Settings = new Dictionary<string, string?> { ["CloudToDevice:FeedbackBatchSize"] = "1" },
        });

    public async Task DisposeAsync() => await _broker.DisposeAsync();

    [Fact]
    public async Task Events_OneMessageAndABatch_AreStoredWithTheirPropertiesBeforeThe204()
    {
        var device = await _broker.CreateDeviceAsync("http-events");
        using var http = HubHttps.Client(_broker, _broker.CreateSasToken(device.DeviceId, TestBroker.PrimaryKeyOf(device)));
        using (var single = new HttpRequestMessage(HttpMethod.Post, $"/devices/{device.DeviceId}/messages/events{ApiVersion}")
        {
            Content = new ByteArrayContent("""{"t":1}"""u8.ToArray()),
        })
        {
            single.Headers.Add("IoTHub-MessageId", "m1");
            single.Headers.Add("iothub-contenttype", "application/json");
            single.Headers.Add("iothub-app-color", "red and blue");
            Assert.Equal(HttpStatusCode.NoContent, (await http.SendAsync(single)).StatusCode);
        }

        var batch = new StringContent(
            $$$"""[{"body":"{{{Convert.ToBase64String("b1"u8)}}}","properties":{"iothub-app-k":"1","iothub-messageid":"m2"}},{"body":"{{{Convert.ToBase64String("b2"u8)}}}"}]""",
            Encoding.UTF8);
        batch.Headers.ContentType = new System.Net.Http.Headers.MediaTypeHeaderValue("application/vnd.microsoft.iothub.json");
        Assert.Equal(HttpStatusCode.NoContent, (await http.PostAsync(new Uri($"/devices/{device.DeviceId}/messages/events{ApiVersion}", UriKind.Relative), batch)).StatusCode);

        using var api = ManagementApi.Connect(_broker);
        var events = await api.ReadCountAsync(new ReadEventsRequest { Start = StartPosition.Start, DeviceId = device.DeviceId }, 3, Bound);
        Assert.Equal(["""{"t":1}""", "b1", "b2"], events.Select(e => e.Body.ToStringUtf8()));
        Assert.Equal("m1", events[0].MessageId);
        Assert.Equal("application/json", events[0].ContentType);
        Assert.Equal("red and blue", events[0].Properties["color"]);
        Assert.Equal("m2", events[1].MessageId);
        Assert.Equal("1", events[1].Properties["k"]);
        Assert.Equal(device.DeviceId, events[2].SystemProperties["iothub-connection-device-id"]);
    }

    [Fact]
    public async Task CloudToDevice_PollAbandonRejectComplete_LockLostAndEmptyQueue()
    {
        var device = await _broker.CreateDeviceAsync("http-c2d");
        using var http = HubHttps.Client(_broker, _broker.CreateSasToken(device.DeviceId, TestBroker.PrimaryKeyOf(device)));
        string path = $"/devices/{device.DeviceId}/messages/devicebound";
        Assert.Equal(HttpStatusCode.NoContent, (await http.GetAsync(new Uri(path + ApiVersion, UriKind.Relative))).StatusCode);

        var queue = _broker.Services.GetRequiredService<Broker.Core.CloudToDevice.CloudToDeviceService>();
        await queue.SendAsync(device.DeviceId, new CloudToDeviceRequest
        {
            Body = "first"u8.ToArray(), MessageId = "a", CorrelationId = "c", Ack = FeedbackMode.Full,
            Properties = new Dictionary<string, string?> { ["k"] = "v" },
        });
        await queue.SendAsync(device.DeviceId, new CloudToDeviceRequest { Body = "second"u8.ToArray(), MessageId = "b", Ack = FeedbackMode.Full });

        var first = await http.GetAsync(new Uri(path + ApiVersion, UriKind.Relative));
        Assert.Equal(HttpStatusCode.OK, first.StatusCode);
        Assert.Equal("first", await first.Content.ReadAsStringAsync());
        Assert.Equal("a", first.Headers.GetValues("iothub-messageid").Single());
        Assert.Equal("c", first.Headers.GetValues("iothub-correlationid").Single());
        Assert.Equal("v", first.Headers.GetValues("iothub-app-k").Single());
        Assert.Equal("0", first.Headers.GetValues("iothub-deliverycount").Single());
        string firstLock = first.Headers.ETag!.Tag.Trim('"');
        Assert.True(Guid.TryParse(firstLock, out _));

        Assert.Equal(HttpStatusCode.NoContent, (await http.PostAsync(new Uri($"{path}/{firstLock}/abandon{ApiVersion}", UriKind.Relative), null)).StatusCode);
        var again = await http.GetAsync(new Uri(path + ApiVersion, UriKind.Relative));
        Assert.Equal("a", again.Headers.GetValues("iothub-messageid").Single());
        Assert.Equal("1", again.Headers.GetValues("iothub-deliverycount").Single());
        string againLock = again.Headers.ETag!.Tag.Trim('"');
        Assert.Equal(HttpStatusCode.NoContent, (await http.DeleteAsync(new Uri($"{path}/{againLock}{ApiVersion}&reject", UriKind.Relative))).StatusCode);

        var second = await http.GetAsync(new Uri(path + ApiVersion, UriKind.Relative));
        Assert.Equal("second", await second.Content.ReadAsStringAsync());
        string secondLock = second.Headers.ETag!.Tag.Trim('"');
        Assert.Equal(HttpStatusCode.NoContent, (await http.DeleteAsync(new Uri($"{path}/{secondLock}{ApiVersion}", UriKind.Relative))).StatusCode);
        var lost = await http.DeleteAsync(new Uri($"{path}/{secondLock}{ApiVersion}", UriKind.Relative));
        Assert.Equal(HttpStatusCode.PreconditionFailed, lost.StatusCode);
        Assert.Equal("DeviceMessageLockLost", lost.Headers.GetValues("iothub-errorcode").Single());
        Assert.Equal(HttpStatusCode.NoContent, (await http.GetAsync(new Uri(path + ApiVersion, UriKind.Relative))).StatusCode);

        var feedback = _broker.Services.GetRequiredService<FeedbackQueue>();
        var statuses = new List<FeedbackStatus>();
        while (statuses.Count < 2)
        {
            var received = await feedback.ReceiveAsync().AsTask().WaitAsync(Bound);
            statuses.AddRange(received.Records.Select(r => r.StatusCode));
            await feedback.CompleteAsync(received.LockToken);
        }

        Assert.Equal([FeedbackStatus.Rejected, FeedbackStatus.Success], statuses);
    }

    [Fact]
    public async Task X509Device_AuthenticatesWithItsTlsClientCertificate()
    {
        const string deviceId = "http-x509";
        using var certificate = AmqpDeviceLinkTests.SelfSignedClientCertificate(deviceId);
        await X509Devices.RegisterAsync(_broker, deviceId, certificate);
        using var http = HubHttps.Client(_broker, null, certificate);
        var sent = await http.PostAsync(new Uri($"/devices/{deviceId}/messages/events{ApiVersion}", UriKind.Relative), new ByteArrayContent("x509"u8.ToArray()));
        Assert.Equal(HttpStatusCode.NoContent, sent.StatusCode);
    }

    [Fact]
    public async Task Refusals_AnswerIotHubErrors_AndStoreNothing()
    {
        var device = await _broker.CreateDeviceAsync("http-refused");
        var other = await _broker.CreateDeviceAsync("http-other");
        string events = $"/devices/{device.DeviceId}/messages/events";
        using (var anonymous = HubHttps.Client(_broker, null))
        {
            await AssertErrorAsync(await anonymous.PostAsync(new Uri(events + ApiVersion, UriKind.Relative), new ByteArrayContent([1])), HttpStatusCode.Unauthorized, "IotHubUnauthorizedAccess");
        }

        using (var othersToken = HubHttps.Client(_broker, _broker.CreateSasToken(other.DeviceId, TestBroker.PrimaryKeyOf(other))))
        {
            await AssertErrorAsync(await othersToken.PostAsync(new Uri(events + ApiVersion, UriKind.Relative), new ByteArrayContent([1])), HttpStatusCode.Unauthorized, "IotHubUnauthorizedAccess");
        }

        using var http = HubHttps.Client(_broker, _broker.CreateSasToken(device.DeviceId, TestBroker.PrimaryKeyOf(device)));
        await AssertErrorAsync(await http.PostAsync(new Uri(events, UriKind.Relative), new ByteArrayContent([1])), HttpStatusCode.BadRequest, "ArgumentInvalid");
        await AssertErrorAsync(await http.PostAsync(new Uri(events + ApiVersion, UriKind.Relative), new ByteArrayContent(new byte[256 * 1024 + 1])), HttpStatusCode.RequestEntityTooLarge, "MessageTooLarge");
        var badBatch = new StringContent("[{\"body\":\"not base64!\"}]", Encoding.UTF8);
        badBatch.Headers.ContentType = new System.Net.Http.Headers.MediaTypeHeaderValue("application/vnd.microsoft.iothub.json");
        await AssertErrorAsync(await http.PostAsync(new Uri(events + ApiVersion, UriKind.Relative), badBatch), HttpStatusCode.BadRequest, "ArgumentInvalid");
        await AssertErrorAsync(await http.DeleteAsync(new Uri($"/devices/{device.DeviceId}/messages/devicebound/not-a-lock{ApiVersion}", UriKind.Relative)), HttpStatusCode.BadRequest, "ArgumentInvalid");

        using var api = ManagementApi.Connect(_broker);
        // A marker from the device itself: everything read before it would be something a refusal stored.
        Assert.Equal(HttpStatusCode.NoContent, (await http.PostAsync(new Uri(events + ApiVersion, UriKind.Relative), new ByteArrayContent("marker"u8.ToArray()))).StatusCode);
        var stored = await api.ReadCountAsync(new ReadEventsRequest { Start = StartPosition.Start, DeviceId = device.DeviceId }, 1, Bound);
        Assert.Equal("marker", stored[0].Body.ToStringUtf8());
    }

    private static async Task AssertErrorAsync(HttpResponseMessage response, HttpStatusCode status, string code)
    {
        string text = await response.Content.ReadAsStringAsync();
        Assert.True(status == response.StatusCode, $"expected {status}, got {(int)response.StatusCode}: {text}");
        Assert.Equal(code, response.Headers.GetValues("iothub-errorcode").Single());
        using var json = JsonDocument.Parse(text);
        Assert.StartsWith($"ErrorCode:{code};", json.RootElement.GetProperty("Message").GetString(), StringComparison.Ordinal);
    }
}
