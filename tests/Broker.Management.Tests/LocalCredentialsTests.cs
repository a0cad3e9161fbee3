using Broker.Core.Security;

namespace Broker.Management.Tests;

public sealed class LocalCredentialsTests
{
    private readonly SharedAccessPolicies _policies = SharedAccessPolicies.CreateDefaults();

    [Fact]
    public void Write_ThenTryRead_OwnerConnectionString()
    {
        using var data = new TempDirectory();

        var path = LocalCredentials.Write(data.Path, "hub.example.net", _policies);

        Assert.Equal(Path.Combine(data.Path, "iothubowner.connectionstring"), path);
        Assert.True(LocalCredentials.TryRead(data.Path, out var connectionString));
        Assert.Equal($"HostName=hub.example.net;SharedAccessKeyName=iothubowner;SharedAccessKey={_policies.Find("iothubowner")!.PrimaryKey}", connectionString);
    }

    [Fact]
    public void Write_OnUnix_FileReadableByOwnerOnly()
    {
        if (OperatingSystem.IsWindows())
        {
            return;
        }

        using var data = new TempDirectory();

        var path = LocalCredentials.Write(data.Path, "hub.example.net", _policies);

        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(path));
    }

    [Fact]
    public void Write_Again_ReplacesTheOldKey()
    {
        using var data = new TempDirectory();
        LocalCredentials.Write(data.Path, "hub.example.net", SharedAccessPolicies.CreateDefaults());

        LocalCredentials.Write(data.Path, "hub.example.net", _policies);

        Assert.True(LocalCredentials.TryRead(data.Path, out var connectionString));
        Assert.EndsWith(_policies.Find("iothubowner")!.PrimaryKey, connectionString, StringComparison.Ordinal);
        Assert.Single(Directory.GetFiles(data.Path));
    }

    [Fact]
    public void Write_MissingFolder_CreatesIt()
    {
        using var data = new TempDirectory();
        var nested = Path.Combine(data.Path, "new", "data");

        LocalCredentials.Write(nested, "hub.example.net", _policies);

        Assert.True(LocalCredentials.TryRead(nested, out _));
    }

    [Fact]
    public void Write_NoOwnerPolicy_Throws()
    {
        using var data = new TempDirectory();
        var policies = new SharedAccessPolicies([_policies.Find("service")!]);

        Assert.Throws<InvalidOperationException>(() => LocalCredentials.Write(data.Path, "hub.example.net", policies));
    }

    [Fact]
    public void TryRead_NoFile_False()
    {
        using var data = new TempDirectory();

        Assert.False(LocalCredentials.TryRead(data.Path, out var connectionString));
        Assert.Null(connectionString);
        Assert.False(LocalCredentials.TryRead(Path.Combine(data.Path, "absent"), out _));
    }
}
