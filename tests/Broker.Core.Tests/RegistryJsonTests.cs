using System.Text.Json;
using Broker.Core.Registry;
using Broker.Core.Security;

namespace Broker.Core.Tests;

public sealed class RegistryJsonTests
{
    private static readonly string[] SpecDeviceProperties =
    [
        "deviceId", "generationId", "etag", "connectionState", "status", "statusReason", "connectionStateUpdatedTime",
        "statusUpdatedTime", "lastActivityTime", "cloudToDeviceMessageCount", "authentication", "capabilities",
    ];

    private static readonly string[] SpecModuleProperties =
    [
        "moduleId", "managedBy", "deviceId", "generationId", "etag", "connectionState", "connectionStateUpdatedTime",
        "lastActivityTime", "cloudToDeviceMessageCount", "authentication",
    ];

    private static JsonElement Serialize(Device device)
        => JsonSerializer.SerializeToElement(device, RegistryJsonContext.Default.Device);

    [Fact]
    public void Serialize_Device_HasSpecPropertyNamesInOrder()
    {
        var json = Serialize(new Device
        {
            DeviceId = "dev1",
            GenerationId = "638000000000000000",
            ETag = "MTIz",
            Authentication = new AuthenticationMechanism
            {
                Type = AuthenticationType.Sas,
                SymmetricKey = new SymmetricKey { PrimaryKey = "cA==", SecondaryKey = "cw==" },
                X509Thumbprint = new X509Thumbprint(),
            },
            Capabilities = new DeviceCapabilities(),
        });

        Assert.Equal(SpecDeviceProperties, json.EnumerateObject().Select(p => p.Name));
        var authentication = json.GetProperty("authentication");
        Assert.Equal(["symmetricKey", "x509Thumbprint", "type"], authentication.EnumerateObject().Select(p => p.Name));
        Assert.Equal(["primaryKey", "secondaryKey"], authentication.GetProperty("symmetricKey").EnumerateObject().Select(p => p.Name));
        Assert.Equal(["primaryThumbprint", "secondaryThumbprint"], authentication.GetProperty("x509Thumbprint").EnumerateObject().Select(p => p.Name));
        Assert.Equal(["iotEdge"], json.GetProperty("capabilities").EnumerateObject().Select(p => p.Name));
    }

    [Fact]
    public void Serialize_Device_ValuesAreIotHubSpellings()
    {
        var json = Serialize(new Device
        {
            DeviceId = "dev1",
            Status = DeviceStatus.Disabled,
            ConnectionState = DeviceConnectionState.Connected,
            Authentication = new AuthenticationMechanism { Type = AuthenticationType.SelfSigned },
            StatusUpdatedTime = new DateTimeOffset(2026, 1, 2, 3, 4, 5, 600, TimeSpan.FromHours(2)),
        });

        Assert.Equal("disabled", json.GetProperty("status").GetString());
        Assert.Equal("Connected", json.GetProperty("connectionState").GetString());
        Assert.Equal("selfSigned", json.GetProperty("authentication").GetProperty("type").GetString());
        Assert.Equal("0001-01-01T00:00:00Z", json.GetProperty("lastActivityTime").GetString());
        Assert.Equal("2026-01-02T01:04:05.6Z", json.GetProperty("statusUpdatedTime").GetString());
        Assert.Equal(JsonValueKind.Null, json.GetProperty("statusReason").ValueKind);
        Assert.Equal(0, json.GetProperty("cloudToDeviceMessageCount").GetInt32());
    }

    [Theory]
    [InlineData(AuthenticationType.Sas, "sas")]
    [InlineData(AuthenticationType.SelfSigned, "selfSigned")]
    [InlineData(AuthenticationType.CertificateAuthority, "certificateAuthority")]
    [InlineData(AuthenticationType.None, "none")]
    public void Serialize_AuthenticationType_CamelCaseNames(AuthenticationType type, string expected)
    {
        var json = JsonSerializer.SerializeToElement(new AuthenticationMechanism { Type = type }, RegistryJsonContext.Default.Options);
        Assert.Equal(expected, json.GetProperty("type").GetString());
    }

    [Fact]
    public void Serialize_DeviceScopes_OnlyWhenSet()
    {
        Assert.False(Serialize(new Device { DeviceId = "d" }).TryGetProperty("deviceScope", out _));
        var json = Serialize(new Device { DeviceId = "d", DeviceScope = "ms-azure-iot-edge://e-1", ParentScopes = ["ms-azure-iot-edge://e-1"] });
        Assert.Equal("ms-azure-iot-edge://e-1", json.GetProperty("deviceScope").GetString());
        Assert.Equal("ms-azure-iot-edge://e-1", json.GetProperty("parentScopes")[0].GetString());
    }

    [Fact]
    public void Serialize_Module_HasSpecPropertyNamesInOrder()
    {
        var json = JsonSerializer.SerializeToElement(
            new Module { ModuleId = "m", DeviceId = "d", ManagedBy = "IotEdge", Authentication = new AuthenticationMechanism { Type = AuthenticationType.None } },
            RegistryJsonContext.Default.Module);
        Assert.Equal(SpecModuleProperties, json.EnumerateObject().Select(p => p.Name));
        Assert.False(json.TryGetProperty("status", out _));
    }

    [Fact]
    public void Deserialize_CSharpSdkCreateBody_Reads()
    {
        // What Microsoft.Azure.Devices' RegistryManager.AddDeviceAsync sends (Newtonsoft, no Z on DateTime.MinValue).
        const string body = """
            {"deviceId":"dev1","generationId":null,"etag":null,"connectionState":"Disconnected","status":"enabled",
             "statusReason":null,"connectionStateUpdatedTime":"0001-01-01T00:00:00","statusUpdatedTime":"0001-01-01T00:00:00",
             "lastActivityTime":"0001-01-01T00:00:00","cloudToDeviceMessageCount":0,
             "authentication":{"symmetricKey":{"primaryKey":null,"secondaryKey":null},"x509Thumbprint":{"primaryThumbprint":null,"secondaryThumbprint":null},"type":"sas"},
             "capabilities":{"iotEdge":false}}
            """;
        var device = JsonSerializer.Deserialize(body, RegistryJsonContext.Default.Device)!;
        Assert.Equal("dev1", device.DeviceId);
        Assert.Equal(DeviceStatus.Enabled, device.Status);
        Assert.Equal(DateTimeOffset.MinValue, device.LastActivityTime);
        Assert.Equal(TimeSpan.Zero, device.StatusUpdatedTime.Offset); // no offset means UTC, not local time
        Assert.Equal(AuthenticationType.Sas, device.Authentication!.Type);
        Assert.Null(device.Authentication.SymmetricKey!.PrimaryKey);
    }

    [Fact]
    public void Deserialize_NodeSdkCreateBody_Reads()
    {
        // What azure-iothub's Registry.create sends for {deviceId} alone.
        const string body = """{"deviceId":"dev1","authentication":{"type":"sas","symmetricKey":{"primaryKey":"","secondaryKey":""}}}""";
        var device = JsonSerializer.Deserialize(body, RegistryJsonContext.Default.Device)!;
        Assert.Equal(DeviceStatus.Enabled, device.Status);
        Assert.Equal("", device.Authentication!.SymmetricKey!.PrimaryKey);
    }

    [Fact]
    public void SerializeDeserialize_Device_RoundTrips()
    {
        var device = new Device
        {
            DeviceId = "dev1",
            GenerationId = "1",
            ETag = "e",
            Status = DeviceStatus.Disabled,
            StatusReason = "why",
            StatusUpdatedTime = new DateTimeOffset(2026, 1, 2, 3, 4, 5, TimeSpan.Zero),
            Authentication = new AuthenticationMechanism { Type = AuthenticationType.SelfSigned, X509Thumbprint = new X509Thumbprint { PrimaryThumbprint = new string('a', 40) } },
            Capabilities = new DeviceCapabilities { IotEdge = true },
        };
        var back = JsonSerializer.Deserialize(JsonSerializer.SerializeToUtf8Bytes(device, RegistryJsonContext.Default.Device), RegistryJsonContext.Default.Device)!;
        Assert.Equal(device.StatusUpdatedTime, back.StatusUpdatedTime);
        Assert.Equal(device.Authentication, back.Authentication);
        Assert.Equal(device.Capabilities, back.Capabilities);
        Assert.Equal(device.Status, back.Status);
    }

    [Fact]
    public void Serialize_Policy_UsesAuthorizationRuleShape()
    {
        var json = JsonSerializer.SerializeToElement(
            new List<SharedAccessPolicy> { new() { KeyName = "registryReadWrite", PrimaryKey = "p", SecondaryKey = "s", Rights = AccessRights.RegistryRead | AccessRights.RegistryWrite } },
            RegistryJsonContext.Default.ListSharedAccessPolicy)[0];
        Assert.Equal(["keyName", "primaryKey", "secondaryKey", "rights"], json.EnumerateObject().Select(p => p.Name));
        Assert.Equal("RegistryRead, RegistryWrite", json.GetProperty("rights").GetString());
    }
}
