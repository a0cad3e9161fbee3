using System.Text;
using System.Text.Json.Nodes;
using Broker.Core.Errors;
using Broker.Core.Hub;
using Broker.Core.Registry;
using Broker.Core.Security;
using Broker.Core.Storage;
using Broker.Core.Twins;
using Broker.Storage.Faster;
using Microsoft.Extensions.Time.Testing;

namespace Broker.Core.Tests.Twins;

public sealed class TwinServiceTests : IAsyncLifetime
{
    private readonly TempDirectory _directory = new();
    private readonly FakeTimeProvider _time = new(TestStores.Start);
    private FasterHubStore _store = null!;
    private IdentityRegistry _identities = null!;
    private ConnectionRegistry _connections = null!;
    private TwinService _twins = null!;
    private Device _device = null!;

    public async Task InitializeAsync()
    {
        Open();
        _device = await _identities.CreateDeviceAsync(new Device { DeviceId = "dev1" });
    }

    public async Task DisposeAsync()
    {
        await _store.DisposeAsync();
        _directory.Dispose();
    }

    private void Open()
    {
        _store = TestStores.Open(TestStores.TwinSizedOptions(_directory.Path), _time);
        _identities = new IdentityRegistry(_store, _time);
        _connections = new ConnectionRegistry(_identities, _time);
        _twins = new TwinService(_store, _identities, _connections, _time, static (_, _) => 3);
    }

    private async Task ReopenAsync()
    {
        await _store.DisposeAsync();
        Open();
    }

    private static ReadOnlyMemory<byte> Json(string json) => Encoding.UTF8.GetBytes(json);

    private JsonObject Twin(string deviceId = "dev1", string? moduleId = null) => (JsonObject)JsonNode.Parse(_twins.GetTwin(deviceId, moduleId))!;

    private JsonObject DeviceView(string deviceId = "dev1", string? moduleId = null) => (JsonObject)JsonNode.Parse(_twins.GetDeviceView(deviceId, moduleId))!;

    private static async Task<IotHubException> ThrowsIotHub(IotHubErrorCode code, Func<Task> action)
    {
        var error = await Assert.ThrowsAsync<IotHubException>(action);
        Assert.Equal(code, error.Code);
        return error;
    }

    private static void AssertJson(string expected, JsonNode? actual)
        => Assert.True(JsonNode.DeepEquals(JsonNode.Parse(expected), actual), $"expected {expected}, got {actual?.ToJsonString()}");

    private static string Stamp(DateTimeOffset time) => time.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.fff'Z'", System.Globalization.CultureInfo.InvariantCulture);

    private FakeProxy Connect(string deviceId = "dev1", string? moduleId = null)
    {
        var proxy = new FakeProxy(new DeviceContext(deviceId, moduleId, ProtocolKind.Mqtt, AuthMethod.IdentityKey, null, _time.GetUtcNow(), null));
        _connections.Register(proxy);
        return proxy;
    }

    [Fact]
    public void DefaultTwin_HasIoTHubShape()
    {
        var twin = Twin();
        var stamp = Stamp(_time.GetUtcNow());

        Assert.Equal("dev1", (string?)twin["deviceId"]);
        Assert.False(twin.ContainsKey("moduleId"));
        Assert.Equal("AAAAAAAAAAE=", (string?)twin["etag"]);
        Assert.Equal(_device.ETag, (string?)twin["deviceEtag"]);
        Assert.Equal(1, (long)twin["version"]!);
        Assert.Equal("enabled", (string?)twin["status"]);
        Assert.Equal("0001-01-01T00:00:00Z", (string?)twin["statusUpdateTime"]);
        Assert.Equal("Disconnected", (string?)twin["connectionState"]);
        Assert.Equal("0001-01-01T00:00:00Z", (string?)twin["lastActivityTime"]);
        Assert.Equal(3, (int)twin["cloudToDeviceMessageCount"]!);
        Assert.Equal("sas", (string?)twin["authenticationType"]);
        AssertJson("""{"primaryThumbprint":null,"secondaryThumbprint":null}""", twin["x509Thumbprint"]);
        AssertJson("""{"iotEdge":false}""", twin["capabilities"]);
        AssertJson("{}", twin["tags"]);
        AssertJson($$$"""
            {"desired":{"$metadata":{"$lastUpdated":"{{{stamp}}}"},"$version":1},
             "reported":{"$metadata":{"$lastUpdated":"{{{stamp}}}"},"$version":1}}
            """, twin["properties"]);
    }

    [Fact]
    public void DefaultDeviceView_HasVersionsOnly()
    {
        Assert.Equal("""{"desired":{"$version":1},"reported":{"$version":1}}""", Encoding.UTF8.GetString(_twins.GetDeviceView("dev1", null)));
    }

    [Fact]
    public async Task ModuleTwin_HasModuleIdAndNoCapabilities()
    {
        var module = await _identities.CreateModuleAsync(new Module { DeviceId = "dev1", ModuleId = "mod1" });
        var twin = Twin("dev1", "mod1");

        Assert.Equal("dev1", (string?)twin["deviceId"]);
        Assert.Equal("mod1", (string?)twin["moduleId"]);
        Assert.Equal(module.ETag, (string?)twin["deviceEtag"]);
        Assert.False(twin.ContainsKey("capabilities"));

        await _twins.UpdateReportedAsync("dev1", "mod1", Json("""{"m":1}"""));
        Assert.Equal(1, (int)DeviceView("dev1", "mod1")["reported"]!["m"]!);
        Assert.False(DeviceView()["reported"]!.AsObject().ContainsKey("m"));
    }

    [Fact]
    public async Task UnknownIdentities_AreNotFound()
    {
        await _identities.CreateModuleAsync(new Module { DeviceId = "dev1", ModuleId = "mod1" });

        await ThrowsIotHub(IotHubErrorCode.DeviceNotFound, () => Task.FromResult(_twins.GetTwin("nope", null)));
        await ThrowsIotHub(IotHubErrorCode.DeviceNotFound, () => Task.FromResult(_twins.GetDeviceView("nope", "mod1")));
        await ThrowsIotHub(IotHubErrorCode.ModuleNotFound, () => Task.FromResult(_twins.GetTwin("dev1", "mod2")));
        await ThrowsIotHub(IotHubErrorCode.DeviceNotFound, () => _twins.UpdateReportedAsync("nope", null, Json("{}")).AsTask());
        await ThrowsIotHub(IotHubErrorCode.ModuleNotFound, () => _twins.UpdateTwinAsync("dev1", "mod2", Json("{}"), null).AsTask());
        await ThrowsIotHub(IotHubErrorCode.DeviceNotFound, () => _twins.ReplaceTwinAsync("nope", null, Json("{}"), null).AsTask());
    }

    [Fact]
    public async Task ReportedPatch_MergesDeletesAndKeepsVersionsAndMetadata()
    {
        var t1 = _time.GetUtcNow();
        Assert.Equal(2, await _twins.UpdateReportedAsync("dev1", null, Json("""{"a":1,"b":{"c":"x","d":true},"$version":99}""")));
        _time.Advance(TimeSpan.FromSeconds(5.5));
        var t2 = _time.GetUtcNow();
        Assert.Equal(3, await _twins.UpdateReportedAsync("dev1", null, Json("""{"a":null,"b":{"c":null,"e":[1,"two",{"f":2.5}]},"new":{}}""")));

        var twin = Twin();
        Assert.Equal(3, (long)twin["version"]!);
        Assert.Equal("AAAAAAAAAAM=", (string?)twin["etag"]);
        var reported = twin["properties"]!["reported"]!;
        AssertJson($$$"""
            {"b":{"d":true,"e":[1,"two",{"f":2.5}]},"new":{},
             "$metadata":{"$lastUpdated":"{{{Stamp(t2)}}}",
               "b":{"$lastUpdated":"{{{Stamp(t2)}}}","d":{"$lastUpdated":"{{{Stamp(t1)}}}"},"e":{"$lastUpdated":"{{{Stamp(t2)}}}"}},
               "new":{"$lastUpdated":"{{{Stamp(t2)}}}"}},
             "$version":3}
            """, reported);
        Assert.Equal(1, (long)twin["properties"]!["desired"]!["$version"]!);
        AssertJson("""{"desired":{"$version":1},"reported":{"b":{"d":true,"e":[1,"two",{"f":2.5}]},"new":{},"$version":3}}""", DeviceView());
    }

    [Fact]
    public async Task ReportedPatch_ReplacesLeafWithObjectAndBack()
    {
        await _twins.UpdateReportedAsync("dev1", null, Json("""{"a":1}"""));
        await _twins.UpdateReportedAsync("dev1", null, Json("""{"a":{"b":1,"c":null}}"""));
        AssertJson("""{"a":{"b":1},"$version":3}""", DeviceView()["reported"]);
        await _twins.UpdateReportedAsync("dev1", null, Json("""{"a":"flat"}"""));
        var reported = Twin()["properties"]!["reported"]!;
        Assert.Equal("flat", (string?)reported["a"]);
        Assert.False(reported["$metadata"]!["a"]!.AsObject().ContainsKey("b"));
    }

    [Fact]
    public async Task TwoReportedPatches_IssuedBeforeAwaiting_ApplyInCallOrder()
    {
        var first = _twins.UpdateReportedAsync("dev1", null, Json("""{"a":1,"b":1}"""));
        var second = _twins.UpdateReportedAsync("dev1", null, Json("""{"a":2}"""));

        Assert.Equal(2, await first);
        Assert.Equal(3, await second);
        AssertJson("""{"a":2,"b":1,"$version":3}""", DeviceView()["reported"]);
    }

    [Fact]
    public async Task DesiredPatch_IsPushedToTheLiveConnectionWithVersion()
    {
        var proxy = Connect();
        var other = Connect("dev1", "mod1"); // a module of the same device is another identity
        var stamp = Stamp(_time.GetUtcNow());

        var result = JsonNode.Parse(await _twins.UpdateTwinAsync("dev1", null, Json("""{"properties":{"desired":{"x":1,"y":null,"z":{"w":"v"}}}}"""), null))!;

        var (version, body) = Assert.Single(proxy.DesiredPatches);
        Assert.Equal(2, version);
        AssertJson("""{"x":1,"y":null,"z":{"w":"v"},"$version":2}""", JsonNode.Parse(body));
        Assert.Empty(other.DesiredPatches);
        Assert.Equal("Connected", (string?)result["connectionState"]);
        AssertJson($$$"""
            {"x":1,"z":{"w":"v"},
             "$metadata":{"$lastUpdated":"{{{stamp}}}","$lastUpdatedVersion":2,
               "x":{"$lastUpdated":"{{{stamp}}}","$lastUpdatedVersion":2},
               "z":{"$lastUpdated":"{{{stamp}}}","$lastUpdatedVersion":2,"w":{"$lastUpdated":"{{{stamp}}}","$lastUpdatedVersion":2} } },
             "$version":2}
            """, result["properties"]!["desired"]);
        Assert.Equal(2, (long)result["version"]!);
        AssertJson("""{"x":1,"z":{"w":"v"},"$version":2}""", DeviceView()["desired"]);

        await _twins.UpdateTwinAsync("dev1", null, Json("""{"properties":{"desired":{"x":2}}}"""), null);
        Assert.Equal([2L, 3L], proxy.DesiredPatches.Select(p => p.Version));
        AssertJson("""{"x":2,"$version":3}""", JsonNode.Parse(proxy.DesiredPatches[1].Body));
    }

    [Fact]
    public async Task DesiredPatch_ForOfflineDevice_IsNotQueued()
    {
        var proxy = Connect();
        _connections.Unregister(proxy);

        await _twins.UpdateTwinAsync("dev1", null, Json("""{"properties":{"desired":{"x":1}}}"""), null);
        var reconnected = Connect();

        Assert.Empty(proxy.DesiredPatches);
        Assert.Empty(reconnected.DesiredPatches);
        Assert.Equal(2, (long)DeviceView()["desired"]!["$version"]!);
    }

    [Fact]
    public async Task Tags_MergeWithoutTouchingDesiredOrNotifying()
    {
        var proxy = Connect();
        await _twins.UpdateTwinAsync("dev1", null, Json("""{"tags":{"location":{"building":"43","floor":1}}}"""), null);
        var twin = JsonNode.Parse(await _twins.UpdateTwinAsync("dev1", null, Json("""{"tags":{"location":{"floor":null,"room":"a"},"owner":"me"}}"""), null))!;

        AssertJson("""{"location":{"building":"43","room":"a"},"owner":"me"}""", twin["tags"]);
        Assert.Equal(3, (long)twin["version"]!);
        Assert.Equal(1, (long)twin["properties"]!["desired"]!["$version"]!);
        Assert.Empty(proxy.DesiredPatches);

        twin = JsonNode.Parse(await _twins.UpdateTwinAsync("dev1", null, Json("""{"tags":null}"""), null))!;
        AssertJson("{}", twin["tags"]);
    }

    [Fact]
    public async Task ServicePatch_WithoutChanges_ReturnsTheTwinUnchanged()
    {
        var before = Twin();
        var after = JsonNode.Parse(await _twins.UpdateTwinAsync("dev1", null, Json("""{"deviceId":"dev1","etag":"x","properties":{"reported":{"$version":4}}}"""), null));
        Assert.True(JsonNode.DeepEquals(before, after));
    }

    [Theory]
    [InlineData(null)]
    [InlineData("*")]
    [InlineData("\"*\"")]
    [InlineData("AAAAAAAAAAI=")]
    [InlineData("\"AAAAAAAAAAI=\"")]
    public async Task IfMatch_AcceptsWildcardAndCurrentETag(string? ifMatch)
    {
        await _twins.UpdateTwinAsync("dev1", null, Json("""{"tags":{"a":1}}"""), null);

        var twin = JsonNode.Parse(await _twins.UpdateTwinAsync("dev1", null, Json("""{"tags":{"b":2}}"""), ifMatch))!;

        Assert.Equal("AAAAAAAAAAM=", (string?)twin["etag"]);
        AssertJson("""{"a":1,"b":2}""", twin["tags"]);
    }

    [Theory]
    [InlineData("AAAAAAAAAAE=")]
    [InlineData("\"AAAAAAAAAAE=\"")]
    [InlineData("\"stale\"")]
    public async Task IfMatch_Mismatch_IsPreconditionFailedAndChangesNothing(string ifMatch)
    {
        await _twins.UpdateTwinAsync("dev1", null, Json("""{"tags":{"a":1}}"""), null);
        var before = Twin();

        await ThrowsIotHub(IotHubErrorCode.PreconditionFailed, () => _twins.UpdateTwinAsync("dev1", null, Json("""{"tags":{"b":2}}"""), ifMatch).AsTask());
        await ThrowsIotHub(IotHubErrorCode.PreconditionFailed, () => _twins.ReplaceTwinAsync("dev1", null, Json("""{"tags":{"b":2}}"""), ifMatch).AsTask());

        Assert.True(JsonNode.DeepEquals(before, Twin()));
    }

    public static TheoryData<string> InvalidReportedPatches()
    {
        var data = new TheoryData<string>
        {
            """{"a.b":1}""",
            """{"$a":1}""",
            """{"a":{"$version":1}}""",
            """{"a b":1}""",
            "{\"a\\u0001\":1}",
            "{\"a\\u0085\":1}",
            """{"big":4503599627370496}""",
            """{"small":-4503599627370497}""",
            """{"huge":123456789012345678901234567890}""",
            """{"a":[1,null]}""",
            """{"a":[{"b.c":1}]}""",
            """[1,2]""",
            "42",
            "\"text\"",
            "null",
            "not json",
            "",
            """{"a":1,"a":2}""",
            "{\"a\":\"\\uD800\"}",
            $$"""{"s":"{{new string('x', TwinRules.MaxStringBytes + 1)}}"}""",
            $$"""{"s":"{{new string('é', TwinRules.MaxStringBytes / 2 + 1)}}"}""",
            $$"""{"{{new string('k', TwinRules.MaxKeyBytes + 1)}}":1}""",
            Nested(TwinRules.MaxDepth + 1, "1"),
            Nested(TwinRules.MaxDepth, "[1]"),
        };
        // reported over 32 KB: 33 values of 1000 bytes plus their keys
        data.Add("{" + string.Join(",", Enumerable.Range(0, 33).Select(i => $"\"k{i}\":\"{new string('v', 1000)}\"")) + "}");
        return data;
    }

    private static string Nested(int depth, string leaf)
    {
        var builder = new StringBuilder();
        for (int i = 0; i < depth; i++)
        {
            builder.Append("{\"l").Append(i).Append("\":");
        }

        builder.Append(leaf);
        builder.Append('}', depth);
        return "{\"root\":" + builder + "}";
    }

    [Theory]
    [MemberData(nameof(InvalidReportedPatches))]
    public async Task ReportedPatch_BreakingARule_IsArgumentInvalidAndChangesNothing(string patch)
    {
        await _twins.UpdateReportedAsync("dev1", null, Json("""{"kept":true}"""));
        var before = Twin();

        var error = await ThrowsIotHub(IotHubErrorCode.ArgumentInvalid, () => _twins.UpdateReportedAsync("dev1", null, Json(patch)).AsTask());

        Assert.False(string.IsNullOrWhiteSpace(error.Message));
        Assert.True(JsonNode.DeepEquals(before, Twin()));
    }

    [Fact]
    public async Task ReportedPatch_AtTheLimits_IsAccepted()
    {
        var patch = $$"""
            {"deep":{{Nested(TwinRules.MaxDepth - 1, "1")}},
             "max":4503599627370495,"min":-4503599627370496,"float":1.5e300,
             "s":"{{new string('x', TwinRules.MaxStringBytes)}}",
             "{{new string('k', TwinRules.MaxKeyBytes)}}":false,
             "unicode":"é€😀"}
            """;

        Assert.Equal(2, await _twins.UpdateReportedAsync("dev1", null, Json(patch)));
        var reported = DeviceView()["reported"]!;
        Assert.Equal(4503599627370495, (long)reported["max"]!);
        Assert.Equal("é€😀", (string?)reported["unicode"]);
    }

    [Fact]
    public async Task ReportedSize_CountsTheWholeSectionAfterThePatch()
    {
        // 31 values of 1000 bytes fit; a second patch pushing the total over 32 KB is refused
        var patch = "{" + string.Join(",", Enumerable.Range(0, 31).Select(i => $"\"k{i}\":\"{new string('v', 1000)}\"")) + "}";
        await _twins.UpdateReportedAsync("dev1", null, Json(patch));

        await ThrowsIotHub(IotHubErrorCode.ArgumentInvalid, () => _twins.UpdateReportedAsync("dev1", null, Json($"{{\"more\":\"{new string('v', 2000)}\"}}")).AsTask());
        Assert.Equal(3, await _twins.UpdateReportedAsync("dev1", null, Json("""{"k0":null}""")));
    }

    [Fact]
    public async Task TwinTooLargeToStore_IsArgumentInvalidAndTheStoreKeepsWorking()
    {
        // Within IoT Hub's counted limits (each string is 1000 bytes), but each control character takes 6 bytes as JSON.
        var escaped = string.Concat(Enumerable.Repeat("\\u0001", 1000));
        var patch = "{" + string.Join(",", Enumerable.Range(0, 32).Select(i => $"\"k{i}\":\"{escaped}\"")) + "}";
        await _twins.UpdateTwinAsync("dev1", null, Json("{\"properties\":{\"desired\":" + patch + "}}"), null);

        await ThrowsIotHub(IotHubErrorCode.ArgumentInvalid, () => _twins.UpdateReportedAsync("dev1", null, Json(patch)).AsTask());

        Assert.Equal(2, await _twins.UpdateReportedAsync("dev1", null, Json("""{"ok":1}""")));
    }

    [Fact]
    public async Task ServicePatch_BreakingARule_IsArgumentInvalidAndChangesNothing()
    {
        var proxy = Connect();
        await _twins.UpdateTwinAsync("dev1", null, Json("""{"tags":{"t":1},"properties":{"desired":{"d":1}}}"""), null);
        var before = Twin();
        string bigTags = "{\"tags\":{" + string.Join(",", Enumerable.Range(0, 9).Select(i => $"\"k{i}\":\"{new string('v', 1000)}\"")) + "}}";
        string bigDesired = "{\"properties\":{\"desired\":{" + string.Join(",", Enumerable.Range(0, 33).Select(i => $"\"k{i}\":\"{new string('v', 1000)}\"")) + "}}}";

        foreach (var patch in new[]
        {
            bigTags,
            bigDesired,
            """{"properties":{"reported":{"r":1}}}""",
            """{"properties":{"desired":{"ok":1},"reported":{"r":1}}}""",
            """{"properties":[]}""",
            """{"tags":[]}""",
            """{"tags":{"a.b":1}}""",
            """{"properties":{"desired":{"a":{"$metadata":{}}}}}""",
            """{"tags":{"ok":1},"properties":{"desired":{"bad key":1}}}""",
            "[]",
        })
        {
            await ThrowsIotHub(IotHubErrorCode.ArgumentInvalid, () => _twins.UpdateTwinAsync("dev1", null, Json(patch), null).AsTask());
        }

        await ThrowsIotHub(IotHubErrorCode.ArgumentInvalid, () => _twins.ReplaceTwinAsync("dev1", null, Json(bigTags), null).AsTask());
        Assert.True(JsonNode.DeepEquals(before, Twin()));
        Assert.Single(proxy.DesiredPatches);
    }

    [Fact]
    public async Task Replace_ReplacesTagsAndDesiredAndPushesTheDifference()
    {
        await _twins.UpdateTwinAsync("dev1", null, Json("""{"tags":{"a":1,"b":2},"properties":{"desired":{"x":1,"y":{"p":1,"q":2},"z":3}}}"""), null);
        await _twins.UpdateReportedAsync("dev1", null, Json("""{"r":1}"""));
        var proxy = Connect();

        var twin = JsonNode.Parse(await _twins.ReplaceTwinAsync("dev1", null, Json("""
            {"deviceId":"dev1","etag":"AAAAAAAAAAM=","tags":{"b":3},
             "properties":{"desired":{"x":1,"y":{"p":1,"q":5,"n":null},"w":true,"$version":2,"$metadata":{}},"reported":{"r":9}}}
            """), "\"AAAAAAAAAAM=\""))!;

        AssertJson("""{"b":3}""", twin["tags"]);
        AssertJson("""{"x":1,"y":{"p":1,"q":5},"w":true,"$version":3}""", DeviceView()["desired"]);
        Assert.Equal(1, (int)twin["properties"]!["reported"]!["r"]!);
        Assert.Equal(4, (long)twin["version"]!);
        var (version, body) = Assert.Single(proxy.DesiredPatches);
        Assert.Equal(3, version);
        AssertJson("""{"z":null,"y":{"q":5},"w":true,"$version":3}""", JsonNode.Parse(body));

        twin = JsonNode.Parse(await _twins.ReplaceTwinAsync("dev1", null, Json("{}"), null))!;
        AssertJson("{}", twin["tags"]);
        AssertJson("""{"$version":4}""", DeviceView()["desired"]);
    }

    [Fact]
    public async Task Twin_SurvivesReopen()
    {
        await _twins.UpdateTwinAsync("dev1", null, Json("""{"tags":{"t":"x"},"properties":{"desired":{"d":{"e":1}}}}"""), null);
        await _twins.UpdateReportedAsync("dev1", null, Json("""{"r":[1,2,3],"s":"ü"}"""));
        var before = _twins.GetTwin("dev1", null);

        await ReopenAsync();

        Assert.Equal(Encoding.UTF8.GetString(before), Encoding.UTF8.GetString(_twins.GetTwin("dev1", null)));
        Assert.Equal(3, await _twins.UpdateReportedAsync("dev1", null, Json("""{"r":null}""")));
    }

    [Fact]
    public async Task DeletingTheDevice_DeletesItsTwinAndItsModulesTwins()
    {
        await _identities.CreateModuleAsync(new Module { DeviceId = "dev1", ModuleId = "mod1" });
        await _identities.CreateDeviceAsync(new Device { DeviceId = "dev10" });
        await _twins.UpdateReportedAsync("dev1", null, Json("""{"r":1}"""));
        await _twins.UpdateReportedAsync("dev1", "mod1", Json("""{"r":1}"""));
        await _twins.UpdateReportedAsync("dev10", null, Json("""{"r":1}"""));

        await _identities.DeleteDeviceAsync("dev1");

        Assert.Equal(["dev10"], StoredTwinKeys());
        await ThrowsIotHub(IotHubErrorCode.DeviceNotFound, () => Task.FromResult(_twins.GetTwin("dev1", null)));
        await _identities.CreateDeviceAsync(new Device { DeviceId = "dev1" });
        await _identities.CreateModuleAsync(new Module { DeviceId = "dev1", ModuleId = "mod1" });
        Assert.Equal(1, (long)Twin()["version"]!);
        Assert.Equal(1, (long)Twin("dev1", "mod1")["version"]!);
        Assert.False(DeviceView()["reported"]!.AsObject().ContainsKey("r"));
        Assert.Equal(1, (int)DeviceView("dev10")["reported"]!["r"]!);
    }

    [Fact]
    public async Task DeletingAModule_DeletesOnlyItsTwin()
    {
        await _identities.CreateModuleAsync(new Module { DeviceId = "dev1", ModuleId = "mod1" });
        await _identities.CreateModuleAsync(new Module { DeviceId = "dev1", ModuleId = "mod2" });
        await _twins.UpdateReportedAsync("dev1", null, Json("""{"r":1}"""));
        await _twins.UpdateReportedAsync("dev1", "mod1", Json("""{"r":1}"""));
        await _twins.UpdateReportedAsync("dev1", "mod2", Json("""{"r":1}"""));

        await _identities.DeleteModuleAsync("dev1", "mod1");

        Assert.Equal(["dev1", "dev1/mod2"], StoredTwinKeys());
    }

    [Fact]
    public async Task StaleTwinOfAnEarlierIncarnation_IsIgnored()
    {
        // As if the process stopped after the device's delete was durable but before its twin's was.
        await _twins.UpdateReportedAsync("dev1", null, Json("""{"r":1}"""));
        var partition = _store.GetPartitionFor("dev1");
        var stale = new System.Buffers.ArrayBufferWriter<byte>();
        Assert.True(partition.State.TryRead(StateRecordKind.Twin, "dev1"u8, stale));
        await _identities.DeleteDeviceAsync("dev1");
        await _identities.CreateDeviceAsync(new Device { DeviceId = "dev1" });
        await partition.State.WaitDurableAsync(partition.State.Upsert(StateRecordKind.Twin, "dev1"u8, stale.WrittenSpan));

        Assert.Equal(1, (long)Twin()["version"]!);
        Assert.Equal(2, await _twins.UpdateReportedAsync("dev1", null, Json("""{"n":1}""")));
        AssertJson("""{"n":1,"$version":2}""", DeviceView()["reported"]);
    }

    private List<string> StoredTwinKeys()
    {
        var collector = new KeyCollector();
        for (int i = 0; i < _store.PartitionCount; i++)
        {
            _store.GetPartition(i).State.Scan(StateRecordKind.Twin, default, collector);
        }

        collector.Keys.Sort(StringComparer.Ordinal);
        return collector.Keys;
    }

    private sealed class KeyCollector : IStateVisitor
    {
        public List<string> Keys { get; } = [];

        public bool Visit(ReadOnlySpan<byte> key, ReadOnlySpan<byte> value)
        {
            Keys.Add(Encoding.UTF8.GetString(key));
            return true;
        }
    }

    /// <summary>The hub → device boundary: records what the hub sends.</summary>
    private sealed class FakeProxy(DeviceContext context) : IDeviceProxy
    {
        public DeviceContext Context { get; } = context;

        public DeviceSubscriptions Subscriptions => DeviceSubscriptions.DesiredProperties | DeviceSubscriptions.TwinResponses;

        public List<(long Version, byte[] Body)> DesiredPatches { get; } = [];

        public void Close(DisconnectReason reason)
        {
        }

        public bool SendMethodRequest(string methodName, string requestId, ReadOnlyMemory<byte> payload) => false;

        public void SendDesiredPropertiesPatch(long version, ReadOnlyMemory<byte> patch)
        {
            lock (DesiredPatches)
            {
                DesiredPatches.Add((version, patch.ToArray()));
            }
        }

        public void CloudToDeviceAvailable()
        {
        }
    }
}
