using System.IO.Compression;
using System.Xml.Linq;
using Broker.Plugins.Authentication;
using Broker.Plugins.Tests.Support;

namespace Broker.Plugins.Tests;

/// <summary>The contract stays small: only the Microsoft.Extensions abstractions besides the framework, packed as documented.</summary>
[Collection(PluginsCollection.Name)]
public sealed class ContractTests(PluginBuildFixture fixture)
{
    [Fact]
    public void ContractAssembly_References_OnlyFrameworkAndExtensionsAbstractions()
    {
        string[] references = [.. typeof(IBrokerPlugin).Assembly.GetReferencedAssemblies().Select(reference => reference.Name!)];

        Assert.All(references, name => Assert.True(
            name.StartsWith("System.", StringComparison.Ordinal)
            || (name.StartsWith("Microsoft.Extensions.", StringComparison.Ordinal) && name.EndsWith(".Abstractions", StringComparison.Ordinal)),
            $"the contract references {name}"));
    }

    [Fact]
    public void Pack_Contract_VersionedPackageWithLicenseAndAbstractionsOnly()
    {
        using var package = ZipFile.OpenRead(fixture.PackagePath);
        using var nuspecStream = package.GetEntry("Broker.Plugins.Abstractions.nuspec")!.Open();
        var nuspec = XDocument.Load(nuspecStream);
        var ns = nuspec.Root!.GetDefaultNamespace();
        var metadata = nuspec.Root.Element(ns + "metadata")!;

        Assert.Equal("Broker.Plugins.Abstractions", metadata.Element(ns + "id")!.Value);
        Assert.Equal("1.0.0", metadata.Element(ns + "version")!.Value);
        Assert.Equal("MIT", metadata.Element(ns + "license")!.Value);
        Assert.False(string.IsNullOrWhiteSpace(metadata.Element(ns + "description")!.Value));
        Assert.All(metadata.Descendants(ns + "dependency"), dependency =>
            Assert.Matches(@"^Microsoft\.Extensions\.\w+\.Abstractions$", dependency.Attribute("id")!.Value));
        Assert.NotNull(package.GetEntry("lib/net10.0/Broker.Plugins.Abstractions.dll"));
        Assert.NotNull(package.GetEntry("lib/net10.0/Broker.Plugins.Abstractions.xml"));
    }

    [Fact]
    public void DeviceAuthenticationRequest_ToString_RedactsCredentials()
    {
        var request = new DeviceAuthenticationRequest
        {
            HostName = "hub",
            DeviceId = "device-1",
            SasToken = "SharedAccessSignature sr=hub%2Fdevices%2Fdevice-1&sig=SECRET&se=1",
            ClientCertificate = new byte[] { 1, 2, 3 },
        };

        string text = request.ToString();

        Assert.Contains("device-1", text, StringComparison.Ordinal);
        Assert.DoesNotContain("SECRET", text, StringComparison.Ordinal);
        Assert.Contains("SasToken = (redacted)", text, StringComparison.Ordinal);
    }

    [Fact]
    public void DeviceAuthenticationResult_Default_IsNotMine()
    {
        Assert.Equal(DeviceAuthenticationOutcome.NotMine, default(DeviceAuthenticationResult).Outcome);
        Assert.Equal(DeviceAuthenticationResult.NotMine, default);
        Assert.Equal(DeviceAuthenticationOutcome.Declined, DeviceAuthenticationResult.Decline("no").Outcome);
    }
}
