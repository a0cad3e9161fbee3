using Broker.Core.Security;

namespace Broker.Core.Tests;

public sealed class SharedAccessPoliciesTests
{
    [Fact]
    public async Task LoadOrCreate_FirstStart_GeneratesBuiltInPoliciesStableAcrossReopen()
    {
        using var directory = new TempDirectory();
        var options = TestStores.SmallOptions(directory.Path);
        SharedAccessPolicies first;
        await using (var store = TestStores.Open(options))
        {
            first = await SharedAccessPolicies.LoadOrCreateAsync(store);
            var again = await SharedAccessPolicies.LoadOrCreateAsync(store);
            Assert.Equal(first.All, again.All);
        }

        Assert.Equal(["iothubowner", "service", "device", "registryRead", "registryReadWrite"], first.All.Select(p => p.KeyName));
        Assert.All(first.All, p => Assert.Equal(32, Convert.FromBase64String(p.PrimaryKey).Length));
        Assert.All(first.All, p => Assert.Equal(32, Convert.FromBase64String(p.SecondaryKey).Length));
        Assert.Equal(10, first.All.SelectMany(p => new[] { p.PrimaryKey, p.SecondaryKey }).Distinct().Count());

        await using (var store = TestStores.Open(options))
        {
            var reloaded = await SharedAccessPolicies.LoadOrCreateAsync(store);
            Assert.Equal(first.All, reloaded.All);
        }
    }

    [Fact]
    public void CreateDefaults_Rights_AsDocumented()
    {
        var policies = SharedAccessPolicies.CreateDefaults();
        Assert.Equal(AccessRights.RegistryRead | AccessRights.RegistryWrite | AccessRights.ServiceConnect | AccessRights.DeviceConnect, policies.Find("iothubowner")!.Rights);
        Assert.Equal(AccessRights.ServiceConnect, policies.Find("service")!.Rights);
        Assert.Equal(AccessRights.DeviceConnect, policies.Find("device")!.Rights);
        Assert.Equal(AccessRights.RegistryRead, policies.Find("registryRead")!.Rights);
        Assert.Equal(AccessRights.RegistryRead | AccessRights.RegistryWrite, policies.Find("registryReadWrite")!.Rights);
        Assert.Null(policies.Find("nobody"));
        Assert.Same(policies.Find("registryRead"), policies.Find("registryread"));
        Assert.Same(policies.Find("registryRead"), policies.Find("registry%52ead"));
    }

    [Fact]
    public void Grants_RegistryWrite_ImpliesRead()
    {
        var write = new SharedAccessPolicy { KeyName = "w", PrimaryKey = "", SecondaryKey = "", Rights = AccessRights.RegistryWrite };
        Assert.True(write.Grants(AccessRights.RegistryRead));
        Assert.False(write.Grants(AccessRights.ServiceConnect));
        Assert.False(write.Grants(AccessRights.RegistryWrite | AccessRights.DeviceConnect));
    }
}
