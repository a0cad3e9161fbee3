using System.Net;
using System.Net.Sockets;
using System.Text.Json;
using Broker.Core.Registry;
using Broker.Core.Security;

namespace Broker.Management.Tests;

public sealed class CliTests(ManagementServer server) : IClassFixture<ManagementServer>
{
    private const string Thumbprint1 = "0123456789ABCDEF0123456789ABCDEF01234567";
    private const string Thumbprint2 = "89ABCDEF0123456789ABCDEF0123456789ABCDEF";

    private static string NewId() => $"cli-{Guid.NewGuid():N}";

    /// <summary>Runs a command against the test server as <paramref name="policy"/>.</summary>
    private Task<CliResult> RunAsAsync(string policy, params string[] args)
        => Cli.RunAsync([.. args, "--server", server.Address.ToString(), "--connection-string", server.ConnectionString(policy)]);

    private Task<CliResult> RunAsync(params string[] args) => RunAsAsync("iothubowner", args);

    private static void AssertSucceeded(CliResult result)
    {
        Assert.True(result.ExitCode == 0, $"exit {result.ExitCode}: {result.Error}");
        Assert.Equal("", result.Error);
    }

    /// <summary>Failures exit non-zero with exactly one line on standard error and nothing on standard output.</summary>
    private static void AssertFailed(CliResult result, string expectedLine)
    {
        Assert.NotEqual(0, result.ExitCode);
        Assert.Equal("", result.Output);
        Assert.Equal(expectedLine + Environment.NewLine, result.Error);
    }

    [Fact]
    public async Task DeviceCreate_Defaults_PrintsTableWithGeneratedKeys()
    {
        var id = NewId();

        var result = await RunAsync("device", "create", id);

        AssertSucceeded(result);
        var stored = server.Registry.GetDevice(id);
        Assert.Equal(id, result.Field("deviceId"));
        Assert.Equal("enabled", result.Field("status"));
        Assert.Equal("sas", result.Field("authentication"));
        Assert.Equal(stored.ETag, result.Field("etag"));
        Assert.Equal(stored.Authentication!.SymmetricKey!.PrimaryKey, result.Field("primaryKey"));
        Assert.Equal("false", result.Field("iotEdge"));
    }

    [Fact]
    public async Task DeviceCreate_Json_PrintsIotHubDeviceJson()
    {
        var id = NewId();

        var result = await RunAsync("device", "create", id, "--status", "disabled", "--edge", "--json");

        AssertSucceeded(result);
        var printed = JsonSerializer.Deserialize(result.Output, RegistryJsonContext.Default.Device)!;
        Assert.Equal(server.Registry.GetDevice(id), printed);
        Assert.Equal(DeviceStatus.Disabled, printed.Status);
        Assert.True(printed.Capabilities!.IotEdge);
        using var json = JsonDocument.Parse(result.Output);
        Assert.Equal("disabled", json.RootElement.GetProperty("status").GetString());
    }

    [Fact]
    public async Task DeviceCreate_GivenKeys_UsesThem()
    {
        var id = NewId();
        var primary = Convert.ToBase64String(new byte[32]);
        var secondary = Convert.ToBase64String(Enumerable.Repeat((byte)1, 32).ToArray());

        AssertSucceeded(await RunAsync("device", "create", id, "--primary-key", primary, "--secondary-key", secondary));

        var keys = server.Registry.GetDevice(id).Authentication!.SymmetricKey!;
        Assert.Equal(primary, keys.PrimaryKey);
        Assert.Equal(secondary, keys.SecondaryKey);
    }

    [Fact]
    public async Task DeviceCreate_X509_RegistersThumbprints()
    {
        var id = NewId();

        var result = await RunAsync("device", "create", id, "--x509", "--primary-thumbprint", Thumbprint1, "--secondary-thumbprint", Thumbprint2);

        AssertSucceeded(result);
        Assert.Equal("selfSigned", result.Field("authentication"));
        var thumbprints = server.Registry.GetDevice(id).Authentication!.X509Thumbprint!;
        Assert.Equal(Thumbprint1, thumbprints.PrimaryThumbprint);
        Assert.Equal(Thumbprint2, thumbprints.SecondaryThumbprint);
    }

    [Fact]
    public async Task DeviceCreate_X509WithKey_FailsLocallyWithOneLine()
    {
        var id = NewId();

        var result = await RunAsync("device", "create", id, "--x509", "--primary-thumbprint", Thumbprint1, "--primary-key", Convert.ToBase64String(new byte[32]));

        AssertFailed(result, "error: --x509 cannot be combined with --primary-key or --secondary-key.");
        Assert.Null(server.Registry.TryGetDevice(id));
    }

    [Fact]
    public async Task DeviceCreate_X509WithoutThumbprint_ArgumentInvalidFromBroker()
    {
        var result = await RunAsync("device", "create", NewId(), "--x509");

        AssertFailed(result, "error: ArgumentInvalid (400004): Authentication type selfSigned requires a primary or secondary thumbprint.");
    }

    [Fact]
    public async Task DeviceCreate_Existing_ExitsNonZeroWithDeviceAlreadyExists()
    {
        var id = NewId();
        AssertSucceeded(await RunAsync("device", "create", id));

        var result = await RunAsync("device", "create", id);

        AssertFailed(result, $"error: DeviceAlreadyExists (409001): A device with ID '{id}' is already registered.");
    }

    [Fact]
    public async Task DeviceCreate_ReadOnlyPolicy_ExitsNonZeroWithUnauthorized()
    {
        var result = await RunAsAsync("registryRead", "device", "create", NewId());

        AssertFailed(result, "error: IotHubUnauthorizedAccess (401002): Unauthorized: the token does not grant RegistryWrite on this resource (policy 'registryRead').");
    }

    [Fact]
    public async Task DeviceShow_Registered_PrintsTableAndJson()
    {
        var id = NewId();
        AssertSucceeded(await RunAsync("device", "create", id));

        var table = await RunAsync("device", "show", id);
        var json = await RunAsync("device", "show", id, "--json");

        AssertSucceeded(table);
        AssertSucceeded(json);
        var stored = server.Registry.GetDevice(id);
        Assert.Equal(stored.GenerationId, table.Field("generationId"));
        Assert.Equal("Disconnected", table.Field("connectionState"));
        Assert.Equal(stored, JsonSerializer.Deserialize(json.Output, RegistryJsonContext.Default.Device));
    }

    [Fact]
    public async Task DeviceShow_Unknown_ExitsNonZeroWithDeviceNotFound()
    {
        var result = await RunAsync("device", "show", "ghost");

        AssertFailed(result, "error: DeviceNotFound (404001): Device ghost not registered");
    }

    [Fact]
    public async Task DeviceList_Table_HeaderAndOneRowPerDevice()
    {
        var first = NewId();
        var second = NewId();
        AssertSucceeded(await RunAsync("device", "create", first));
        AssertSucceeded(await RunAsync("device", "create", second, "--status", "disabled", "--edge"));

        var result = await RunAsync("device", "list");

        AssertSucceeded(result);
        var header = result.OutputLines[0].Split(' ', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(["DEVICE", "ID", "STATUS", "AUTH", "EDGE", "CONNECTION", "ETAG"], header);
        var rows = result.OutputLines.Skip(1).Select(line => line.Split(' ', StringSplitOptions.RemoveEmptyEntries)).ToDictionary(cells => cells[0]);
        Assert.Equal(["enabled", "sas", "no", "Disconnected", server.Registry.GetDevice(first).ETag!], rows[first][1..]);
        Assert.Equal(["disabled", "sas", "yes", "Disconnected", server.Registry.GetDevice(second).ETag!], rows[second][1..]);
    }

    [Fact]
    public async Task DeviceList_Json_ArrayOfIotHubDevices()
    {
        var id = NewId();
        AssertSucceeded(await RunAsync("device", "create", id));

        var result = await RunAsync("device", "list", "--json");

        AssertSucceeded(result);
        var devices = JsonSerializer.Deserialize(result.Output, RegistryJsonContext.Default.ListDevice)!;
        Assert.Contains(server.Registry.GetDevice(id), devices);
    }

    [Fact]
    public async Task DeviceList_Top_LimitsRows()
    {
        AssertSucceeded(await RunAsync("device", "create", NewId()));
        AssertSucceeded(await RunAsync("device", "create", NewId()));

        var result = await RunAsync("device", "list", "--top", "1");

        AssertSucceeded(result);
        Assert.Equal(2, result.OutputLines.Length);
    }

    [Fact]
    public async Task DeviceUpdate_Status_DisablesWithReason()
    {
        var id = NewId();
        AssertSucceeded(await RunAsync("device", "create", id));
        var before = server.Registry.GetDevice(id);

        var result = await RunAsync("device", "update", id, "--status", "disabled", "--status-reason", "maintenance");

        AssertSucceeded(result);
        var after = server.Registry.GetDevice(id);
        Assert.Equal(DeviceStatus.Disabled, after.Status);
        Assert.Equal("maintenance", after.StatusReason);
        Assert.Equal(before.Authentication, after.Authentication);
        Assert.Equal("disabled", result.Field("status"));
        Assert.Equal("maintenance", result.Field("statusReason"));
        Assert.Equal(after.ETag, result.Field("etag"));
    }

    [Fact]
    public async Task DeviceUpdate_CurrentETag_Updates()
    {
        var id = NewId();
        AssertSucceeded(await RunAsync("device", "create", id));

        var result = await RunAsync("device", "update", id, "--status", "disabled", "--etag", server.Registry.GetDevice(id).ETag!, "--json");

        AssertSucceeded(result);
        Assert.Equal(DeviceStatus.Disabled, JsonSerializer.Deserialize(result.Output, RegistryJsonContext.Default.Device)!.Status);
    }

    [Fact]
    public async Task DeviceUpdate_StaleETag_ExitsNonZeroWithPreconditionFailed()
    {
        var id = NewId();
        AssertSucceeded(await RunAsync("device", "create", id));
        var stale = server.Registry.GetDevice(id).ETag!;
        AssertSucceeded(await RunAsync("device", "update", id, "--status-reason", "first"));

        var result = await RunAsync("device", "update", id, "--status", "disabled", "--etag", stale);

        var current = server.Registry.GetDevice(id);
        AssertFailed(result, $"error: PreconditionFailed (412001): Precondition failed: the ETag of device {id} did not match; current ETag is \"{current.ETag}\".");
        Assert.Equal(DeviceStatus.Enabled, current.Status);
    }

    [Fact]
    public async Task DeviceUpdate_Unknown_ExitsNonZeroWithDeviceNotFound()
        => AssertFailed(await RunAsync("device", "update", "ghost", "--status", "disabled"), "error: DeviceNotFound (404001): Device ghost not registered");

    [Fact]
    public async Task DeviceDelete_Registered_DeletesAndSaysSo()
    {
        var id = NewId();
        AssertSucceeded(await RunAsync("device", "create", id));

        var result = await RunAsync("device", "delete", id, "--etag", server.Registry.GetDevice(id).ETag!);

        AssertSucceeded(result);
        Assert.Equal($"Deleted device {id}.", result.Output.Trim());
        Assert.Null(server.Registry.TryGetDevice(id));
    }

    [Fact]
    public async Task DeviceDelete_StaleETag_ExitsNonZeroAndKeepsDevice()
    {
        var id = NewId();
        AssertSucceeded(await RunAsync("device", "create", id));

        var result = await RunAsync("device", "delete", id, "--etag", "stale");

        Assert.NotEqual(0, result.ExitCode);
        Assert.StartsWith("error: PreconditionFailed (412001): ", result.Error, StringComparison.Ordinal);
        Assert.NotNull(server.Registry.TryGetDevice(id));
    }

    [Fact]
    public async Task DeviceDelete_Unknown_ExitsNonZeroWithDeviceNotFound()
        => AssertFailed(await RunAsync("device", "delete", "ghost"), "error: DeviceNotFound (404001): Device ghost not registered");

    [Fact]
    public async Task DeviceConnectionString_SasDevice_PrintsOnlyTheConnectionString()
    {
        var id = NewId();
        AssertSucceeded(await RunAsync("device", "create", id));

        var result = await RunAsync("device", "connection-string", id);

        AssertSucceeded(result);
        var key = server.Registry.GetDevice(id).Authentication!.SymmetricKey!.PrimaryKey;
        Assert.Equal($"HostName={ManagementServer.HostName};DeviceId={id};SharedAccessKey={key}" + Environment.NewLine, result.Output);
    }

    [Fact]
    public async Task DeviceToken_SasDevice_PrintsATokenTheHubAccepts()
    {
        var id = NewId();
        AssertSucceeded(await RunAsync("device", "create", id));

        var result = await RunAsync("device", "token", id, "--duration", "600");

        AssertSucceeded(result);
        var token = result.Output.Trim();
        Assert.StartsWith("SharedAccessSignature sr=", token, StringComparison.Ordinal);
        var authenticator = new Broker.Core.Security.DeviceAuthenticator(ManagementServer.HostName, server.Registry, server.Policies);
        var auth = authenticator.AuthenticateToken(id, null, token);
        Assert.True(auth.Succeeded, auth.Status.ToString());
    }

    [Fact]
    public async Task DeviceConnectionString_Json_ConnectionStringProperty()
    {
        var id = NewId();
        AssertSucceeded(await RunAsync("device", "create", id));

        var result = await RunAsync("device", "connection-string", id, "--json");

        AssertSucceeded(result);
        using var json = JsonDocument.Parse(result.Output);
        var key = server.Registry.GetDevice(id).Authentication!.SymmetricKey!.PrimaryKey;
        Assert.Equal($"HostName={ManagementServer.HostName};DeviceId={id};SharedAccessKey={key}", json.RootElement.GetProperty("connectionString").GetString());
    }

    [Fact]
    public async Task DeviceConnectionString_Unknown_ExitsNonZeroWithDeviceNotFound()
        => AssertFailed(await RunAsync("device", "connection-string", "ghost"), "error: DeviceNotFound (404001): Device ghost not registered");

    [Fact]
    public async Task PolicyList_Table_NamesAndRights()
    {
        var result = await RunAsync("policy", "list");

        AssertSucceeded(result);
        Assert.Equal(
            [
                "NAME               RIGHTS",
                "iothubowner        RegistryRead, RegistryWrite, ServiceConnect, DeviceConnect",
                "service            ServiceConnect",
                "device             DeviceConnect",
                "registryRead       RegistryRead",
                "registryReadWrite  RegistryRead, RegistryWrite",
            ],
            result.OutputLines);
    }

    [Fact]
    public async Task PolicyList_Json_ArrayOfAuthorizationRules()
    {
        var result = await RunAsync("policy", "list", "--json");

        AssertSucceeded(result);
        using var json = JsonDocument.Parse(result.Output);
        Assert.Equal(server.Policies.All.Select(p => p.KeyName), json.RootElement.EnumerateArray().Select(p => p.GetProperty("keyName").GetString()));
    }

    [Fact]
    public async Task PolicyShow_Owner_KeysAndConnectionString()
    {
        var result = await RunAsync("policy", "show", "service");

        AssertSucceeded(result);
        var service = server.Policies.Find("service")!;
        Assert.Equal("ServiceConnect", result.Field("rights"));
        Assert.Equal(service.PrimaryKey, result.Field("primaryKey"));
        Assert.Equal(server.ConnectionString("service"), result.Field("connectionString"));
    }

    [Fact]
    public async Task PolicyToken_SignedWithThePolicysKey_ForItsName_AndRefusedWithoutItsKeys()
    {
        var result = await RunAsync("policy", "token", "service", "--duration", "600");

        AssertSucceeded(result);
        string token = Assert.Single(result.OutputLines);
        var authenticated = new ServiceAuthenticator(ManagementServer.HostName, server.Policies).Authenticate(token, AccessRights.ServiceConnect);
        Assert.Equal(AuthStatus.Success, authenticated.Status);
        Assert.Equal("service", authenticated.PolicyName);

        // A policy that lacks some of the owner's rights may not read its keys, so it cannot sign as it.
        AssertFailed(await RunAsAsync("registryRead", "policy", "token", "iothubowner"), "error: your policy may not read the keys of iothubowner: it lacks some of its rights.");
    }

    [Fact]
    public async Task PolicyShow_Json_AuthorizationRule()
    {
        var result = await RunAsync("policy", "show", "registryRead", "--json");

        AssertSucceeded(result);
        using var json = JsonDocument.Parse(result.Output);
        Assert.Equal("registryRead", json.RootElement.GetProperty("keyName").GetString());
        Assert.Equal(server.Policies.Find("registryRead")!.SecondaryKey, json.RootElement.GetProperty("secondaryKey").GetString());
    }

    [Fact]
    public async Task PolicyShow_Unknown_ExitsNonZeroWithArgumentInvalid()
        => AssertFailed(await RunAsync("policy", "show", "nosuch"), "error: ArgumentInvalid (400004): Shared access policy 'nosuch' does not exist.");

    [Fact]
    public async Task DeviceShow_CredentialsFromDataFolder_UsesTheBrokersOwnerFile()
    {
        Assert.True(Environment.GetEnvironmentVariable("BROKER_CONNECTION_STRING") is null, "unset BROKER_CONNECTION_STRING: it outranks --data");

        using var data = new TempDirectory();
        LocalCredentials.Write(data.Path, ManagementServer.HostName, server.Policies);
        var id = NewId();
        AssertSucceeded(await RunAsync("device", "create", id));

        var result = await Cli.RunAsync("device", "show", id, "--server", server.Address.ToString(), "--data", data.Path);

        AssertSucceeded(result);
        Assert.Equal(id, result.Field("deviceId"));
    }

    [Fact]
    public async Task DeviceList_NoCredentialsAnywhere_ExitsNonZeroSayingHowToGiveThem()
    {
        Assert.True(Environment.GetEnvironmentVariable("BROKER_CONNECTION_STRING") is null, "unset BROKER_CONNECTION_STRING: it supplies credentials");

        using var data = new TempDirectory();

        var result = await Cli.RunAsync("device", "list", "--server", server.Address.ToString(), "--data", data.Path);

        AssertFailed(result,
            $"error: no credentials: pass --connection-string, set BROKER_CONNECTION_STRING, or point --data at the folder of a running broker (no iothubowner.connectionstring in '{data.Path}').");
    }

    [Fact]
    public async Task DeviceList_DeviceConnectionStringGiven_ExitsNonZeroAskingForAPolicyString()
    {
        var result = await Cli.RunAsync("device", "list", "--server", server.Address.ToString(),
            "--connection-string", $"HostName={ManagementServer.HostName};DeviceId=d1;SharedAccessKey={Convert.ToBase64String(new byte[32])}");

        AssertFailed(result, "error: the connection string must be a policy connection string: HostName=…;SharedAccessKeyName=…;SharedAccessKey=…");
    }

    [Fact]
    public async Task DeviceList_WrongKey_ExitsNonZeroWithUnauthorized()
    {
        var result = await Cli.RunAsync("device", "list", "--server", server.Address.ToString(),
            "--connection-string", $"HostName={ManagementServer.HostName};SharedAccessKeyName=iothubowner;SharedAccessKey={Convert.ToBase64String(new byte[32])}");

        Assert.NotEqual(0, result.ExitCode);
        Assert.StartsWith("error: IotHubUnauthorizedAccess (401002): ", result.Error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task DeviceList_NoBrokerListening_ExitsNonZeroSayingItCannotReachIt()
    {
        var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        int port = ((IPEndPoint)listener.LocalEndpoint).Port;
        listener.Stop();

        var result = await Cli.RunAsync("device", "list", "--server", $"http://127.0.0.1:{port}", "--connection-string", server.ConnectionString("iothubowner"));

        Assert.NotEqual(0, result.ExitCode);
        Assert.StartsWith($"error: cannot reach the broker at http://127.0.0.1:{port}/: ", result.Error, StringComparison.Ordinal);
        Assert.Single(result.Error.Split('\n', StringSplitOptions.RemoveEmptyEntries));
    }

    [Fact]
    public async Task DeviceShow_ServerNotAUrl_ExitsNonZero()
        => AssertFailed(await Cli.RunAsync("device", "show", "d1", "--server", "localhost:8081", "--connection-string", server.ConnectionString("iothubowner")),
            "error: --server 'localhost:8081' is not an http:// or https:// URL.");
}
