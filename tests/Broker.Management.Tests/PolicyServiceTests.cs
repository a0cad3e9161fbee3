using System.Text.Json;
using Broker.Core.Registry;
using Broker.Core.Security;
using Broker.Management.V1;
using Grpc.Core;

namespace Broker.Management.Tests;

public sealed class PolicyServiceTests(ManagementServer server) : IClassFixture<ManagementServer>
{
    private static SharedAccessPolicy Parse(string json) => JsonSerializer.Deserialize(json, RegistryJsonContext.Default.SharedAccessPolicy)!;

    [Fact]
    public async Task ListPolicies_Owner_EveryPolicyWithItsKeys()
    {
        var reply = await server.PoliciesClient.ListPoliciesAsync(new ListPoliciesRequest(), server.AsOwner());

        var listed = reply.PoliciesJson.Select(Parse).ToList();
        Assert.Equal(server.Policies.All, listed);
    }

    [Fact]
    public async Task ListPolicies_RegistryRead_KeysOnlyOfPoliciesItCovers()
    {
        var reply = await server.PoliciesClient.ListPoliciesAsync(new ListPoliciesRequest(), ManagementServer.As(server.Token("registryRead")));

        var listed = reply.PoliciesJson.Select(Parse).ToDictionary(p => p.KeyName);
        Assert.Equal(server.Policies.All.Select(p => p.KeyName), listed.Keys);
        Assert.Equal(server.Policies.Find("registryRead"), listed["registryRead"]);
        foreach (var name in new[] { "iothubowner", "service", "device", "registryReadWrite" })
        {
            Assert.Equal("", listed[name].PrimaryKey);
            Assert.Equal("", listed[name].SecondaryKey);
            Assert.Equal(server.Policies.Find(name)!.Rights, listed[name].Rights);
        }
    }

    [Fact]
    public async Task GetPolicy_NameInAnyCase_ReturnsAuthorizationRuleJson()
    {
        var reply = await server.PoliciesClient.GetPolicyAsync(new GetPolicyRequest { Name = "IOTHUBOWNER" }, server.AsOwner());

        using var json = JsonDocument.Parse(reply.PolicyJson);
        var owner = server.Policies.Find("iothubowner")!;
        Assert.Equal("iothubowner", json.RootElement.GetProperty("keyName").GetString());
        Assert.Equal(owner.PrimaryKey, json.RootElement.GetProperty("primaryKey").GetString());
        Assert.Equal(owner.SecondaryKey, json.RootElement.GetProperty("secondaryKey").GetString());
        Assert.Equal("RegistryRead, RegistryWrite, ServiceConnect, DeviceConnect", json.RootElement.GetProperty("rights").GetString());
    }

    [Fact]
    public async Task GetPolicy_RegistryReadWriteAskingForOwner_NoKeys()
    {
        var reply = await server.PoliciesClient.GetPolicyAsync(new GetPolicyRequest { Name = "iothubowner" }, ManagementServer.As(server.Token("registryReadWrite")));

        Assert.Equal("", Parse(reply.PolicyJson).PrimaryKey);
    }

    [Theory]
    [InlineData("nosuchpolicy")]
    [InlineData("")]
    public async Task GetPolicy_Unknown_InvalidArgument400004(string name)
        => await Rpc.FailsWith(StatusCode.InvalidArgument, "ArgumentInvalid", 400004,
            async () => await server.PoliciesClient.GetPolicyAsync(new GetPolicyRequest { Name = name }, server.AsOwner()));
}
