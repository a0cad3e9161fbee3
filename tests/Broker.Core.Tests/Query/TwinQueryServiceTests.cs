using System.Text;
using System.Text.Json;
using Broker.Core.Errors;
using Broker.Core.Hub;
using Broker.Core.Query;
using Broker.Core.Registry;
using Broker.Core.Twins;
using Broker.Storage.Faster;
using Broker.Testing;
using Microsoft.Extensions.Time.Testing;

namespace Broker.Core.Tests.Query;

/// <summary>IoT Hub's twin query language over a real registry and twin store.</summary>
public sealed class TwinQueryServiceTests : IAsyncLifetime
{
    private readonly TempDirectory _directory = new();
    private readonly FakeTimeProvider _time = new(TestStores.Start);
    private FasterHubStore _store = null!;
    private IdentityRegistry _identities = null!;
    private TwinService _twins = null!;
    private TwinQueryService _queries = null!;

    public async Task InitializeAsync()
    {
        _store = TestStores.Open(TestStores.TwinSizedOptions(_directory.Path), _time);
        _identities = new IdentityRegistry(_store, _time);
        _twins = new TwinService(_store, _identities, new ConnectionRegistry(_identities, _time), _time, static (_, _) => 0);
        _queries = new TwinQueryService(_identities, _twins);

        // d1..d5: tags.location US, EU, US, (none), EU; tags.floor 1..5 (numbers); desired.mode on d2 and d3.
        string[] locations = ["US", "EU", "US", "", "EU"];
        for (int i = 1; i <= 5; i++)
        {
            await _identities.CreateDeviceAsync(new Device { DeviceId = $"d{i}", Status = i == 5 ? DeviceStatus.Disabled : DeviceStatus.Enabled });
            string location = locations[i - 1].Length == 0 ? "" : $"\"location\":\"{locations[i - 1]}\",";
            string desired = i is 2 or 3 ? ""","properties":{"desired":{"mode":"eco"}}""" : "";
            await _twins.UpdateTwinAsync($"d{i}", null, Encoding.UTF8.GetBytes($$"""{"tags":{{{location}}"floor":{{i}}}{{desired}}}"""), null);
        }

        await _identities.CreateModuleAsync(new Module { DeviceId = "d1", ModuleId = "m1" });
        await _identities.CreateModuleAsync(new Module { DeviceId = "d2", ModuleId = "m2" });
    }

    public async Task DisposeAsync()
    {
        await _store.DisposeAsync();
        _directory.Dispose();
    }

    [Theory]
    [InlineData("SELECT * FROM devices", "d1,d2,d3,d4,d5")]
    [InlineData("select * from DEVICES where tags.location = 'US'", "d1,d3")]
    [InlineData("SELECT * FROM devices WHERE Tags.Location = \"EU\"", "d2,d5")]
    [InlineData("SELECT * FROM devices WHERE tags.location != 'US'", "d2,d5")]
    [InlineData("SELECT * FROM devices WHERE tags.location <> 'US' OR NOT IS_DEFINED(tags.location)", "d2,d4,d5")]
    [InlineData("SELECT * FROM devices WHERE tags.floor >= 2 AND tags.floor < 4", "d2,d3")]
    [InlineData("SELECT * FROM devices WHERE tags.floor * 2 = 0x8", "d4")]
    [InlineData("SELECT * FROM devices WHERE tags.floor % 2 = 1 AND -tags.floor > -4", "d1,d3")]
    [InlineData("SELECT * FROM devices WHERE tags.location IN ['EU', 'ASIA']", "d2,d5")]
    [InlineData("SELECT * FROM devices WHERE tags.location NIN ['EU']", "d1,d3")]
    [InlineData("SELECT * FROM devices WHERE tags.location NOT IN ('US')", "d2,d5")]
    [InlineData("SELECT * FROM devices WHERE properties.desired.mode = 'eco' AND status = 'enabled'", "d2,d3")]
    [InlineData("SELECT * FROM devices WHERE status = 'disabled'", "d5")]
    [InlineData("SELECT * FROM devices WHERE deviceId = 'd4'", "d4")]
    [InlineData("SELECT * FROM devices WHERE (tags.floor = 1 OR tags.floor = 5) AND NOT (tags.location = 'EU')", "d1")]
    [InlineData("SELECT * FROM devices WHERE tags.floor = '1'", "")] // a number is never equal to a string
    [InlineData("SELECT * FROM devices WHERE tags.nothing = null", "")] // undefined is not null
    [InlineData("SELECT * FROM devices WHERE tags", "")] // only a boolean true passes
    [InlineData("SELECT TOP 2 * FROM devices WHERE tags.floor > 1", "d2,d3")]
    public void Where_SelectsTheTwinsItShould(string query, string expected)
    {
        var page = _queries.Run(query, null, null);
        Assert.Null(page.Continuation);
        Assert.Equal("Twin", page.ItemType);
        using var json = JsonDocument.Parse(page.Json);
        Assert.Equal(expected, string.Join(",", json.RootElement.EnumerateArray().Select(twin => twin.GetProperty("deviceId").GetString())));
    }

    [Fact]
    public void Select_Star_ReturnsWholeTwins()
    {
        using var json = JsonDocument.Parse(_queries.Run("SELECT * FROM devices WHERE deviceId = 'd2'", null, null).Json);
        var twin = Assert.Single(json.RootElement.EnumerateArray());
        Assert.Equal("EU", twin.GetProperty("tags").GetProperty("location").GetString());
        Assert.Equal("eco", twin.GetProperty("properties").GetProperty("desired").GetProperty("mode").GetString());
        Assert.True(twin.TryGetProperty("etag", out _));
    }

    [Fact]
    public void Count_WithAndWithoutAlias()
    {
        using (var json = JsonDocument.Parse(_queries.Run("SELECT COUNT() AS numberOfDevices FROM devices WHERE tags.location = 'EU'", null, null).Json))
        {
            Assert.Equal(2, Assert.Single(json.RootElement.EnumerateArray()).GetProperty("numberOfDevices").GetInt32());
        }

        using var unnamed = JsonDocument.Parse(_queries.Run("SELECT COUNT() FROM devices", null, null).Json);
        Assert.Equal(5, Assert.Single(unnamed.RootElement.EnumerateArray()).GetProperty("$1").GetInt32());
    }

    [Fact]
    public void Projection_NamesByAliasOrLastSegment_LeavesUndefinedOut()
    {
        var page = _queries.Run("SELECT deviceId, tags.location AS where, properties.desired.mode FROM devices WHERE tags.floor <= 4", null, null);
        Assert.Equal("Raw", page.ItemType);
        using var json = JsonDocument.Parse(page.Json);
        Assert.Equal(
            """[{"deviceId":"d1","where":"US"},{"deviceId":"d2","where":"EU","mode":"eco"},{"deviceId":"d3","where":"US","mode":"eco"},{"deviceId":"d4"}]""",
            JsonSerializer.Serialize(json.RootElement));
    }

    [Fact]
    public void Paging_TheContinuationWalksEveryMatchOnce()
    {
        var seen = new List<string>();
        string? continuation = null;
        int pages = 0;
        do
        {
            var page = _queries.Run("SELECT * FROM devices WHERE tags.floor > 1", 2, continuation);
            using var json = JsonDocument.Parse(page.Json);
            seen.AddRange(json.RootElement.EnumerateArray().Select(twin => twin.GetProperty("deviceId").GetString()!));
            continuation = page.Continuation;
            pages++;
        }
        while (continuation is not null && pages < 10);

        Assert.Equal(["d2", "d3", "d4", "d5"], seen);
        Assert.Equal(2, pages);
    }

    [Fact]
    public void Modules_AreTheSourceOfDevicesModules()
    {
        using var json = JsonDocument.Parse(_queries.Run("SELECT * FROM devices.modules WHERE deviceId = 'd2'", null, null).Json);
        var twin = Assert.Single(json.RootElement.EnumerateArray());
        Assert.Equal("m2", twin.GetProperty("moduleId").GetString());
    }

    [Theory]
    [InlineData("")]
    [InlineData("SELECT")]
    [InlineData("SELECT * FROM")]
    [InlineData("SELECT * FROM things")]
    [InlineData("SELECT * FROM devices.twins")]
    [InlineData("SELECT * FROM devices WHERE")]
    [InlineData("SELECT * FROM devices WHERE tags.location = 'unclosed")]
    [InlineData("SELECT * FROM devices WHERE UPPER(tags.location) = 'US'")]
    [InlineData("SELECT * FROM devices WHERE tags.location IN 'US'")]
    [InlineData("SELECT tags.location, COUNT() FROM devices")]
    [InlineData("SELECT COUNT() FROM devices GROUP BY tags.location")]
    [InlineData("SELECT TOP 0 * FROM devices")]
    [InlineData("SELECT * FROM devices WHERE tags.x = 1 ;")]
    [InlineData("SELECT * FROM devices WHERE tags['\\uD800'] = 1")] // an escaped lone surrogate (see below)
    public void BadQuery_Is400004NamingTheProblem(string query)
    {
        var error = Assert.Throws<IotHubException>(() => _queries.Run(query, null, null));
        Assert.Equal(IotHubErrorCode.ArgumentInvalid, error.Code);
        Assert.StartsWith("Invalid query", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void LoneSurrogate_InAName_Is400004()
    {
        // Found by QueryFuzzTests: JSON lookups threw ArgumentException on it. (Built here: attribute strings cannot hold one.)
        string query = "SELECT * FROM devices WHERE tags['" + '\uD800' + "'] = 1";
        Assert.Equal(IotHubErrorCode.ArgumentInvalid, Assert.Throws<IotHubException>(() => _queries.Run(query, null, null)).Code);
    }

    [Fact]
    public void BadPageSizeOrContinuation_Is400004()
    {
        Assert.Equal(IotHubErrorCode.ArgumentInvalid, Assert.Throws<IotHubException>(() => _queries.Run("SELECT * FROM devices", 0, null)).Code);
        Assert.Equal(IotHubErrorCode.ArgumentInvalid, Assert.Throws<IotHubException>(() => _queries.Run("SELECT * FROM devices", 1001, null)).Code);
        Assert.Equal(IotHubErrorCode.ArgumentInvalid, Assert.Throws<IotHubException>(() => _queries.Run("SELECT * FROM devices", null, "not-ours")).Code);
    }
}
