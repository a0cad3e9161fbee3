using System.Net;
using System.Text;
using System.Text.Json;
using Broker.Host.Tests.Support;
using Broker.IntegrationTests.Amqp;
using Broker.IntegrationTests.Support;
using MQTTnet;
using MQTTnet.Protocol;

namespace Broker.IntegrationTests.ServiceApi;

/// <summary>
/// IoT Hub's service REST API on the HTTPS listener, called as the service SDKs call it (api-version, a policy SAS
/// token, quoted If-Match): registry, twins, methods, purge, and the error answers the SDKs parse.
/// </summary>
public sealed class ServiceRestApiTests(BrokerHostFixture fixture) : IClassFixture<BrokerHostFixture>, IDisposable
{
    private const string ApiVersion = "?api-version=2021-04-12";
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(30);
    private readonly TestBroker _broker = fixture.Broker;
    private readonly HttpClient _http = HubHttps.Client(fixture.Broker, AmqpClient.ServiceToken(fixture.Broker).Token);

    public void Dispose() => _http.Dispose();

    [Fact]
    public async Task Device_CreateWithEmptyKeys_GetUpdateWithEtagDelete_AsTheServiceSdkDoesIt()
    {
        // The Node SDK's Registry.create sends empty keys when none are given: the hub generates them.
        var created = await SendAsync(HttpMethod.Put, "/devices/rest-device",
            """{"deviceId":"rest-device","status":"enabled","authentication":{"type":"sas","symmetricKey":{"primaryKey":"","secondaryKey":""}}}""");
        Assert.Equal(HttpStatusCode.OK, created.StatusCode);
        using var device = await JsonOf(created);
        string etag = device.RootElement.GetProperty("etag").GetString()!;
        Assert.Equal($"\"{etag}\"", created.Headers.ETag!.Tag);
        Assert.NotEmpty(device.RootElement.GetProperty("authentication").GetProperty("symmetricKey").GetProperty("primaryKey").GetString()!);

        var again = await SendAsync(HttpMethod.Put, "/devices/rest-device", """{"deviceId":"rest-device"}""");
        await AssertErrorAsync(again, HttpStatusCode.Conflict, "DeviceAlreadyExists", 409001);

        var stale = await SendAsync(HttpMethod.Put, "/devices/rest-device", """{"deviceId":"rest-device","status":"disabled"}""", ifMatch: "\"not-the-etag\"");
        await AssertErrorAsync(stale, HttpStatusCode.PreconditionFailed, "PreconditionFailed", 412001);
        var updated = await SendAsync(HttpMethod.Put, "/devices/rest-device", """{"deviceId":"rest-device","status":"disabled"}""", ifMatch: $"\"{etag}\"");
        Assert.Equal(HttpStatusCode.OK, updated.StatusCode);
        using (var read = await JsonOf(await SendAsync(HttpMethod.Get, "/devices/rest-device")))
        {
            Assert.Equal("disabled", read.RootElement.GetProperty("status").GetString());
            Assert.Equal("Disconnected", read.RootElement.GetProperty("connectionState").GetString());
        }

        using (var list = await JsonOf(await SendAsync(HttpMethod.Get, "/devices")))
        {
            Assert.Contains(list.RootElement.EnumerateArray(), d => d.GetProperty("deviceId").GetString() == "rest-device");
        }

        Assert.Equal(HttpStatusCode.NoContent, (await SendAsync(HttpMethod.Delete, "/devices/rest-device", ifMatch: "\"*\"")).StatusCode);
        await AssertErrorAsync(await SendAsync(HttpMethod.Get, "/devices/rest-device"), HttpStatusCode.NotFound, "DeviceNotFound", 404001);
    }

    [Fact]
    public async Task Modules_CreateListGetDelete()
    {
        await _broker.CreateDeviceAsync("rest-module-host");
        var created = await SendAsync(HttpMethod.Put, "/devices/rest-module-host/modules/m1", """{"moduleId":"m1","deviceId":"rest-module-host"}""");
        Assert.Equal(HttpStatusCode.OK, created.StatusCode);
        using (var list = await JsonOf(await SendAsync(HttpMethod.Get, "/devices/rest-module-host/modules")))
        {
            Assert.Equal("m1", Assert.Single(list.RootElement.EnumerateArray()).GetProperty("moduleId").GetString());
        }

        Assert.Equal(HttpStatusCode.OK, (await SendAsync(HttpMethod.Get, "/devices/rest-module-host/modules/m1")).StatusCode);
        Assert.Equal(HttpStatusCode.NoContent, (await SendAsync(HttpMethod.Delete, "/devices/rest-module-host/modules/m1")).StatusCode);
        await AssertErrorAsync(await SendAsync(HttpMethod.Get, "/devices/rest-module-host/modules/m1"), HttpStatusCode.NotFound, "ModuleNotFound", 404010);
        var mismatch = await SendAsync(HttpMethod.Put, "/devices/rest-module-host/modules/m2", """{"moduleId":"other"}""");
        await AssertErrorAsync(mismatch, HttpStatusCode.BadRequest, "ArgumentInvalid", 400004);
    }

    [Fact]
    public async Task Twin_GetPatchWithEtag_DesiredReachesTheDevice()
    {
        var device = await _broker.CreateDeviceAsync("rest-twin");
        await using var client = await TestDevice.ConnectAsync(_broker, device.DeviceId, TestBroker.PrimaryKeyOf(device));
        await client.SubscribeAsync("$iothub/twin/PATCH/properties/desired/#", MqttQualityOfServiceLevel.AtMostOnce);

        var read = await SendAsync(HttpMethod.Get, "/twins/rest-twin");
        Assert.Equal(HttpStatusCode.OK, read.StatusCode);
        string etag;
        using (var twin = await JsonOf(read))
        {
            etag = twin.RootElement.GetProperty("etag").GetString()!;
            Assert.Equal($"\"{etag}\"", read.Headers.ETag!.Tag);
        }

        await AssertErrorAsync(await SendAsync(HttpMethod.Patch, "/twins/rest-twin", """{"properties":{"desired":{"x":1}}}""", ifMatch: "\"AAAAAAAAAAA=\""),
            HttpStatusCode.PreconditionFailed, "PreconditionFailed", 412001);
        var patched = await SendAsync(HttpMethod.Patch, "/twins/rest-twin", """{"tags":{"site":"a"},"properties":{"desired":{"interval":5}}}""", ifMatch: $"\"{etag}\"");
        Assert.Equal(HttpStatusCode.OK, patched.StatusCode);
        using (var twin = await JsonOf(patched))
        {
            Assert.Equal("a", twin.RootElement.GetProperty("tags").GetProperty("site").GetString());
            Assert.Equal(5, twin.RootElement.GetProperty("properties").GetProperty("desired").GetProperty("interval").GetInt32());
        }

        var pushed = await client.ReceiveAsync();
        Assert.StartsWith("$iothub/twin/PATCH/properties/desired/?$version=", pushed.ApplicationMessage.Topic, StringComparison.Ordinal);
        Assert.Contains("\"interval\":5", Encoding.UTF8.GetString(pushed.ApplicationMessage.Payload), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Method_ToAConnectedDevice_Answers200WithTheDevicesStatusAndPayload_OfflineIs404103()
    {
        var device = await _broker.CreateDeviceAsync("rest-method");
        await using var client = await TestDevice.ConnectAsync(_broker, device.DeviceId, TestBroker.PrimaryKeyOf(device), autoAcknowledge: true);
        client.Client.ApplicationMessageReceivedAsync += async args =>
        {
            string topic = args.ApplicationMessage.Topic;
            if (topic.StartsWith("$iothub/methods/POST/reboot/", StringComparison.Ordinal))
            {
                string rid = topic[(topic.IndexOf("$rid=", StringComparison.Ordinal) + 5)..];
                await client.Client.PublishAsync(new MqttApplicationMessageBuilder()
                    .WithTopic($"$iothub/methods/res/201/?$rid={rid}").WithPayload("""{"rebooted":true}""").Build());
            }
        };
        await client.SubscribeAsync("$iothub/methods/POST/#", MqttQualityOfServiceLevel.AtMostOnce);

        var answer = await SendAsync(HttpMethod.Post, "/twins/rest-method/methods",
            """{"methodName":"reboot","payload":{"delay":1},"responseTimeoutInSeconds":30,"connectTimeoutInSeconds":0}""");
        Assert.Equal(HttpStatusCode.OK, answer.StatusCode);
        using (var json = await JsonOf(answer))
        {
            Assert.Equal(201, json.RootElement.GetProperty("status").GetInt32());
            Assert.True(json.RootElement.GetProperty("payload").GetProperty("rebooted").GetBoolean());
        }

        await _broker.CreateDeviceAsync("rest-method-offline");
        await AssertErrorAsync(await SendAsync(HttpMethod.Post, "/twins/rest-method-offline/methods", """{"methodName":"reboot","payload":null}"""),
            HttpStatusCode.NotFound, "DeviceNotOnline", 404103);
    }

    [Fact]
    public async Task Query_PagesThroughMatchingTwins_WithTheContinuationHeader()
    {
        foreach (var id in new[] { "rest-query-1", "rest-query-2", "rest-query-3" })
        {
            await _broker.CreateDeviceAsync(id);
            Assert.Equal(HttpStatusCode.OK, (await SendAsync(HttpMethod.Patch, $"/twins/{id}", """{"tags":{"suite":"rest-query"}}""")).StatusCode);
        }

        var seen = new List<string>();
        string? continuation = null;
        int pages = 0;
        do
        {
            using var request = new HttpRequestMessage(HttpMethod.Post, "/devices/query" + ApiVersion)
            {
                Content = new StringContent("""{"query":"SELECT * FROM devices WHERE tags.suite = 'rest-query'"}""", Encoding.UTF8, "application/json"),
            };
            request.Headers.Add("x-ms-max-item-count", "2");
            if (continuation is not null)
            {
                request.Headers.Add("x-ms-continuation", continuation);
            }

            var response = await _http.SendAsync(request);
            Assert.Equal("Twin", response.Headers.GetValues("x-ms-item-type").Single());
            using (var json = await JsonOf(response))
            {
                seen.AddRange(json.RootElement.EnumerateArray().Select(twin => twin.GetProperty("deviceId").GetString()!));
            }

            continuation = response.Headers.TryGetValues("x-ms-continuation", out var values) ? values.Single() : null;
            pages++;
        }
        while (continuation is not null && pages < 5);

        Assert.Equal(["rest-query-1", "rest-query-2", "rest-query-3"], seen);
        Assert.Equal(2, pages);

        var bad = await SendAsync(HttpMethod.Post, "/devices/query", """{"query":"SELECT * FROM devices WHERE"}""");
        await AssertErrorAsync(bad, HttpStatusCode.BadRequest, "ArgumentInvalid", 400004);
    }

    [Fact]
    public async Task Statistics_CountDevicesByStatus_AndConnectedDevices()
    {
        using var before = await JsonOf(await SendAsync(HttpMethod.Get, "/statistics/devices"));
        int total = before.RootElement.GetProperty("totalDeviceCount").GetInt32();
        int disabled = before.RootElement.GetProperty("disabledDeviceCount").GetInt32();
        var device = await _broker.CreateDeviceAsync("rest-statistics-on");
        var off = await _broker.CreateDeviceAsync("rest-statistics-off");
        await _broker.Registry.UpdateDeviceAsync(off with { Status = Broker.Core.Registry.DeviceStatus.Disabled }, "*");
        await using var client = await TestDevice.ConnectAsync(_broker, device.DeviceId, TestBroker.PrimaryKeyOf(device));

        using var after = await JsonOf(await SendAsync(HttpMethod.Get, "/statistics/devices"));
        Assert.Equal(total + 2, after.RootElement.GetProperty("totalDeviceCount").GetInt32());
        Assert.Equal(disabled + 1, after.RootElement.GetProperty("disabledDeviceCount").GetInt32());
        Assert.Equal(total + 2 - disabled - 1, after.RootElement.GetProperty("enabledDeviceCount").GetInt32());
        using var service = await JsonOf(await SendAsync(HttpMethod.Get, "/statistics/service"));
        Assert.True(service.RootElement.GetProperty("connectedDeviceCount").GetInt32() >= 1);
    }

    [Fact]
    public async Task Job_ScheduledTwinUpdate_RunsOnTheSelectedDevices_AndIsReportedWhenDone()
    {
        await _broker.CreateDeviceAsync("rest-job-1");
        await _broker.CreateDeviceAsync("rest-job-2");
        Assert.Equal(HttpStatusCode.OK, (await SendAsync(HttpMethod.Patch, "/twins/rest-job-1", """{"tags":{"fleet":"rest-job"}}""")).StatusCode);
        var jobs = (Broker.Core.Jobs.JobService)_broker.Services.GetService(typeof(Broker.Core.Jobs.JobService))!;
        var ended = new TaskCompletionSource<Broker.Core.Jobs.Job>(TaskCreationOptions.RunContinuationsAsynchronously);
        jobs.JobEnded += job =>
        {
            if (job.JobId == "rest-job")
            {
                ended.TrySetResult(job);
            }
        };

        var created = await SendAsync(HttpMethod.Put, "/jobs/v2/rest-job",
            """{"jobId":"rest-job","type":"scheduleUpdateTwin","queryCondition":"tags.fleet = 'rest-job'","updateTwin":{"etag":"*","properties":{"desired":{"firmware":"2.0"}}},"maxExecutionTimeInSeconds":3600}""");
        using (var json = await JsonOf(created))
        {
            Assert.Equal("rest-job", json.RootElement.GetProperty("jobId").GetString());
            Assert.Equal("scheduleUpdateTwin", json.RootElement.GetProperty("type").GetString());
        }

        await ended.Task.WaitAsync(Bound);
        using (var job = await JsonOf(await SendAsync(HttpMethod.Get, "/jobs/v2/rest-job")))
        {
            Assert.Equal("completed", job.RootElement.GetProperty("status").GetString());
            Assert.Equal(1, job.RootElement.GetProperty("deviceJobStatistics").GetProperty("deviceCount").GetInt32());
            Assert.Equal(1, job.RootElement.GetProperty("deviceJobStatistics").GetProperty("succeededCount").GetInt32());
        }

        using (var twin = await JsonOf(await SendAsync(HttpMethod.Get, "/twins/rest-job-1")))
        {
            Assert.Equal("2.0", twin.RootElement.GetProperty("properties").GetProperty("desired").GetProperty("firmware").GetString());
        }

        using (var list = await JsonOf(await SendAsync(HttpMethod.Get, "/jobs/v2/query?jobType=scheduleUpdateTwin&jobStatus=completed")))
        {
            Assert.Contains(list.RootElement.EnumerateArray(), j => j.GetProperty("jobId").GetString() == "rest-job");
        }

        using (var rows = await JsonOf(await SendAsync(HttpMethod.Post, "/devices/query", """{"query":"SELECT * FROM devices.jobs WHERE devices.jobs.jobId = 'rest-job'"}""")))
        {
            var row = Assert.Single(rows.RootElement.EnumerateArray());
            Assert.Equal("rest-job-1", row.GetProperty("deviceId").GetString());
            Assert.Equal("completed", row.GetProperty("status").GetString());
        }

        await AssertErrorAsync(await SendAsync(HttpMethod.Put, "/jobs/v2/rest-job", """{"type":"scheduleUpdateTwin","queryCondition":"true","updateTwin":{}}"""),
            HttpStatusCode.Conflict, "JobAlreadyExists", 409104);
        await AssertErrorAsync(await SendAsync(HttpMethod.Get, "/jobs/v2/no-such-job"), HttpStatusCode.NotFound, "JobNotFound", 404002);
    }

    [Fact]
    public async Task Purge_AnswersTheCount()
    {
        var device = await _broker.CreateDeviceAsync("rest-purge");
        var queue = _broker.Services.GetService(typeof(Broker.Core.CloudToDevice.CloudToDeviceService)) as Broker.Core.CloudToDevice.CloudToDeviceService;
        await queue!.SendAsync(device.DeviceId, new Broker.Core.CloudToDevice.CloudToDeviceRequest { Body = "x"u8.ToArray() });
        await queue.SendAsync(device.DeviceId, new Broker.Core.CloudToDevice.CloudToDeviceRequest { Body = "y"u8.ToArray() });

        using var json = await JsonOf(await SendAsync(HttpMethod.Delete, "/devices/rest-purge/commands"));
        Assert.Equal(2, json.RootElement.GetProperty("totalMessagesPurged").GetInt32());
        Assert.Equal("rest-purge", json.RootElement.GetProperty("deviceId").GetString());
    }

    [Fact]
    public async Task Refusals_NoToken401_WrongKey401_NoApiVersion400_NotOnTheManagementListener()
    {
        using (var anonymous = HubHttps.Client(_broker, null))
        {
            await AssertErrorAsync(await anonymous.GetAsync(new Uri("/devices" + ApiVersion, UriKind.Relative)), HttpStatusCode.Unauthorized, null, null);
        }

        var (policy, _) = AmqpClient.ServiceToken(_broker);
        string forged = Broker.Core.Security.SasTokenBuilder.Create(_broker.HostName, Convert.ToBase64String(new byte[32]), DateTimeOffset.UtcNow.AddHours(1), policy);
        using (var wrongKey = HubHttps.Client(_broker, forged))
        {
            await AssertErrorAsync(await wrongKey.GetAsync(new Uri("/devices" + ApiVersion, UriKind.Relative)), HttpStatusCode.Unauthorized, null, null);
        }

        await AssertErrorAsync(await _http.GetAsync(new Uri("/devices", UriKind.Relative)), HttpStatusCode.BadRequest, "ArgumentInvalid", 400004);

        using var management = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{_broker.ManagementPort}"), DefaultRequestVersion = HttpVersion.Version20, DefaultVersionPolicy = HttpVersionPolicy.RequestVersionExact };
        Assert.Equal(HttpStatusCode.NotFound, (await management.GetAsync(new Uri("/devices" + ApiVersion, UriKind.Relative))).StatusCode);
    }

    private async Task<HttpResponseMessage> SendAsync(HttpMethod method, string path, string? body = null, string? ifMatch = null)
    {
        using var request = new HttpRequestMessage(method, path + (path.Contains('?', StringComparison.Ordinal) ? "&" + ApiVersion[1..] : ApiVersion));
        if (body is not null)
        {
            request.Content = new StringContent(body, Encoding.UTF8, "application/json");
        }

        if (ifMatch is not null)
        {
            request.Headers.TryAddWithoutValidation("If-Match", ifMatch);
        }

        return await _http.SendAsync(request);
    }

    private static async Task<JsonDocument> JsonOf(HttpResponseMessage response)
    {
        Assert.True(response.IsSuccessStatusCode, $"{(int)response.StatusCode}: {await response.Content.ReadAsStringAsync()}");
        return JsonDocument.Parse(await response.Content.ReadAsStringAsync());
    }

    // IoT Hub's error answer, in the form the Node service SDK parses ("ErrorCode:<Name>;<text>" in Message).
    private static async Task AssertErrorAsync(HttpResponseMessage response, HttpStatusCode status, string? name, int? number)
    {
        string text = await response.Content.ReadAsStringAsync();
        Assert.True(status == response.StatusCode, $"expected {status}, got {(int)response.StatusCode}: {text}");
        using var json = JsonDocument.Parse(text);
        string message = json.RootElement.GetProperty("Message").GetString()!;
        Assert.StartsWith("ErrorCode:", message, StringComparison.Ordinal);
        if (name is not null)
        {
            Assert.StartsWith($"ErrorCode:{name};", message, StringComparison.Ordinal);
            Assert.Equal(name, response.Headers.GetValues("iothub-errorcode").Single());
            Assert.Equal(number, json.RootElement.GetProperty("errorCode").GetInt32());
        }
    }
}
