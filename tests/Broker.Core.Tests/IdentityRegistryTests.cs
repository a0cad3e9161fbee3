using Broker.Core.Errors;
using Broker.Core.Registry;
using Broker.Storage.Faster;
using Microsoft.Extensions.Time.Testing;

namespace Broker.Core.Tests;

public sealed class IdentityRegistryTests : IAsyncLifetime
{
    private readonly TempDirectory _directory = new();
    private readonly FakeTimeProvider _time = new(TestStores.Start);
    private FasterHubStore _store = null!;
    private IdentityRegistry _registry = null!;

    public Task InitializeAsync()
    {
        _store = TestStores.Open(TestStores.SmallOptions(_directory.Path), _time);
        _registry = new IdentityRegistry(_store, _time);
        return Task.CompletedTask;
    }

    public async Task DisposeAsync()
    {
        await _store.DisposeAsync();
        _directory.Dispose();
    }

    private async Task ReopenAsync()
    {
        await _store.DisposeAsync();
        _store = TestStores.Open(TestStores.SmallOptions(_directory.Path), _time);
        _registry = new IdentityRegistry(_store, _time);
    }

    private static async Task<IotHubException> ThrowsIotHub(IotHubErrorCode code, Func<Task> action)
    {
        var error = await Assert.ThrowsAsync<IotHubException>(action);
        Assert.Equal(code, error.Code);
        return error;
    }

    [Fact]
    public async Task CreateDevice_NoAuthentication_GeneratesKeysGenerationIdAndETag()
    {
        var created = await _registry.CreateDeviceAsync(new Device { DeviceId = "dev1" });

        Assert.Equal(AuthenticationType.Sas, created.Authentication!.Type);
        Assert.Equal(32, Convert.FromBase64String(created.Authentication.SymmetricKey!.PrimaryKey!).Length);
        Assert.Equal(32, Convert.FromBase64String(created.Authentication.SymmetricKey.SecondaryKey!).Length);
        Assert.NotEqual(created.Authentication.SymmetricKey.PrimaryKey, created.Authentication.SymmetricKey.SecondaryKey);
        Assert.Matches("^[0-9]{18}$", created.GenerationId);
        Assert.False(string.IsNullOrEmpty(created.ETag));
        Assert.Equal(DeviceStatus.Enabled, created.Status);
        Assert.Equal(DeviceConnectionState.Disconnected, created.ConnectionState);
        Assert.False(created.Capabilities!.IotEdge);
        Assert.Equal(created, _registry.GetDevice("dev1"));
    }

    [Fact]
    public async Task CreateDevice_EmptyKeysLikeNodeSdk_GeneratesKeys()
    {
        var created = await _registry.CreateDeviceAsync(new Device
        {
            DeviceId = "dev1",
            Authentication = new AuthenticationMechanism { Type = AuthenticationType.Sas, SymmetricKey = new SymmetricKey { PrimaryKey = "", SecondaryKey = "" } },
        });
        Assert.True(IdentityRules.IsValidSymmetricKey(created.Authentication!.SymmetricKey!.PrimaryKey!));
        Assert.True(IdentityRules.IsValidSymmetricKey(created.Authentication.SymmetricKey.SecondaryKey!));
    }

    [Fact]
    public async Task CreateDevice_GivenKeys_KeepsThem()
    {
        var primary = Convert.ToBase64String(new byte[16]);
        var secondary = Convert.ToBase64String(Enumerable.Repeat((byte)7, 64).ToArray());
        var created = await _registry.CreateDeviceAsync(new Device
        {
            DeviceId = "dev1",
            Authentication = new AuthenticationMechanism { SymmetricKey = new SymmetricKey { PrimaryKey = primary, SecondaryKey = secondary } },
        });
        Assert.Equal(primary, created.Authentication!.SymmetricKey!.PrimaryKey);
        Assert.Equal(secondary, created.Authentication.SymmetricKey.SecondaryKey);
    }

    [Theory]
    [InlineData("not base64")]
    [InlineData("AAAAAAAAAAAAAAAAAAAA")] // 15 bytes
    public async Task CreateDevice_BadKey_ArgumentInvalid(string key)
    {
        await ThrowsIotHub(IotHubErrorCode.ArgumentInvalid, () => _registry.CreateDeviceAsync(new Device
        {
            DeviceId = "dev1",
            Authentication = new AuthenticationMechanism { SymmetricKey = new SymmetricKey { PrimaryKey = key } },
        }).AsTask());
        Assert.Null(_registry.TryGetDevice("dev1"));
    }

    [Fact]
    public async Task CreateDevice_SelfSignedWithThumbprints_StoresThemWithoutKeys()
    {
        var sha1 = new string('A', 40);
        var sha256 = new string('b', 64);
        var created = await _registry.CreateDeviceAsync(new Device
        {
            DeviceId = "x509",
            Authentication = new AuthenticationMechanism
            {
                Type = AuthenticationType.SelfSigned,
                X509Thumbprint = new X509Thumbprint { PrimaryThumbprint = sha1, SecondaryThumbprint = sha256 },
            },
        });
        Assert.Equal(sha1, created.Authentication!.X509Thumbprint!.PrimaryThumbprint);
        Assert.Equal(sha256, created.Authentication.X509Thumbprint.SecondaryThumbprint);
        Assert.Null(created.Authentication.SymmetricKey!.PrimaryKey);
    }

    [Theory]
    [InlineData(null)]
    [InlineData("abc")]
    [InlineData("0123456789abcdef0123456789abcdef0123456z")]
    public async Task CreateDevice_SelfSignedBadThumbprint_ArgumentInvalid(string? thumbprint)
        => await ThrowsIotHub(IotHubErrorCode.ArgumentInvalid, () => _registry.CreateDeviceAsync(new Device
        {
            DeviceId = "x509",
            Authentication = new AuthenticationMechanism { Type = AuthenticationType.SelfSigned, X509Thumbprint = new X509Thumbprint { PrimaryThumbprint = thumbprint } },
        }).AsTask());

    [Theory]
    [InlineData("")]
    [InlineData("with/slash")]
    [InlineData("with space")]
    public async Task CreateDevice_InvalidId_ArgumentInvalid(string id)
        => await ThrowsIotHub(IotHubErrorCode.ArgumentInvalid, () => _registry.CreateDeviceAsync(new Device { DeviceId = id }).AsTask());

    [Fact]
    public async Task CreateDevice_StatusReasonTooLong_ArgumentInvalid()
        => await ThrowsIotHub(IotHubErrorCode.ArgumentInvalid, () => _registry.CreateDeviceAsync(new Device { DeviceId = "d", StatusReason = new string('r', 129) }).AsTask());

    [Fact]
    public async Task CreateDevice_Twice_DeviceAlreadyExists409001()
    {
        await _registry.CreateDeviceAsync(new Device { DeviceId = "dev1" });
        var error = await ThrowsIotHub(IotHubErrorCode.DeviceAlreadyExists, () => _registry.CreateDeviceAsync(new Device { DeviceId = "dev1" }).AsTask());
        Assert.Equal(409001, error.Number);
        Assert.Equal(409, error.HttpStatus);
    }

    [Fact]
    public async Task CreateDevice_IdsAreCaseSensitive_TwoDevices()
    {
        await _registry.CreateDeviceAsync(new Device { DeviceId = "dev1" });
        await _registry.CreateDeviceAsync(new Device { DeviceId = "DEV1" });
        Assert.Equal(["DEV1", "dev1"], _registry.ListDevices().Select(d => d.DeviceId));
    }

    [Fact]
    public async Task CreateDevice_EdgeCapability_GetsEdgeScope()
    {
        var created = await _registry.CreateDeviceAsync(new Device { DeviceId = "edge1", Capabilities = new DeviceCapabilities { IotEdge = true } });
        Assert.Equal($"ms-azure-iot-edge://edge1-{created.GenerationId}", created.DeviceScope);
    }

    [Fact]
    public void GetDevice_Unknown_DeviceNotFound404001()
    {
        var error = Assert.Throws<IotHubException>(() => _registry.GetDevice("nobody"));
        Assert.Equal(IotHubErrorCode.DeviceNotFound, error.Code);
        Assert.Equal(404, error.HttpStatus);
        Assert.Null(_registry.TryGetDevice("nobody"));
        Assert.Null(_registry.TryGetDevice("bad/id"));
    }

    [Fact]
    public async Task UpdateDevice_WrongETag_PreconditionFailed412001AndUnchanged()
    {
        var created = await _registry.CreateDeviceAsync(new Device { DeviceId = "dev1" });
        var error = await ThrowsIotHub(IotHubErrorCode.PreconditionFailed,
            () => _registry.UpdateDeviceAsync(created with { Status = DeviceStatus.Disabled }, "\"not-the-etag\"").AsTask());
        Assert.Equal(412001, error.Number);
        Assert.Equal(created, _registry.GetDevice("dev1"));
    }

    [Fact]
    public async Task UpdateDevice_MatchingQuotedETag_UpdatesAndChangesETag()
    {
        var created = await _registry.CreateDeviceAsync(new Device { DeviceId = "dev1" });
        _time.Advance(TimeSpan.FromMinutes(3));
        var updated = await _registry.UpdateDeviceAsync(
            created with { Status = DeviceStatus.Disabled, StatusReason = "maintenance", Authentication = null }, $"\"{created.ETag}\"");

        Assert.Equal(DeviceStatus.Disabled, updated.Status);
        Assert.Equal("maintenance", updated.StatusReason);
        Assert.Equal(_time.GetUtcNow(), updated.StatusUpdatedTime);
        Assert.NotEqual(created.ETag, updated.ETag);
        Assert.Equal(created.GenerationId, updated.GenerationId);
        Assert.Equal(created.Authentication, updated.Authentication); // omitted authentication keeps the keys
        Assert.Equal(updated, _registry.GetDevice("dev1"));

        // The old etag no longer matches.
        await ThrowsIotHub(IotHubErrorCode.PreconditionFailed, () => _registry.UpdateDeviceAsync(updated, created.ETag).AsTask());
    }

    [Fact]
    public async Task UpdateDevice_WildcardETag_MatchesAny()
    {
        var created = await _registry.CreateDeviceAsync(new Device { DeviceId = "dev1" });
        var updated = await _registry.UpdateDeviceAsync(created with { StatusReason = "x" }, "\"*\"");
        Assert.Equal("x", updated.StatusReason);
        updated = await _registry.UpdateDeviceAsync(updated with { StatusReason = "y" }, "*");
        Assert.Equal("y", updated.StatusReason);
    }

    [Fact]
    public async Task UpdateDevice_EmptySasKeys_KeepsStoredKeys()
    {
        var created = await _registry.CreateDeviceAsync(new Device { DeviceId = "dev1" });
        var updated = await _registry.UpdateDeviceAsync(
            created with { Authentication = new AuthenticationMechanism { Type = AuthenticationType.Sas, SymmetricKey = new SymmetricKey() } }, "*");
        Assert.Equal(created.Authentication, updated.Authentication);
    }

    [Fact]
    public async Task UpdateDevice_Unknown_DeviceNotFound()
        => await ThrowsIotHub(IotHubErrorCode.DeviceNotFound, () => _registry.UpdateDeviceAsync(new Device { DeviceId = "nobody" }, "*").AsTask());

    [Fact]
    public async Task DeleteDevice_WrongETag_PreconditionFailed_RightETag_Deletes()
    {
        var created = await _registry.CreateDeviceAsync(new Device { DeviceId = "dev1" });
        await ThrowsIotHub(IotHubErrorCode.PreconditionFailed, () => _registry.DeleteDeviceAsync("dev1", "\"other\"").AsTask());
        Assert.NotNull(_registry.TryGetDevice("dev1"));

        await _registry.DeleteDeviceAsync("dev1", $"\"{created.ETag}\"");
        Assert.Null(_registry.TryGetDevice("dev1"));
        await ThrowsIotHub(IotHubErrorCode.DeviceNotFound, () => _registry.DeleteDeviceAsync("dev1", "*").AsTask());
    }

    [Fact]
    public async Task CreateDevice_AfterDelete_NewGenerationId()
    {
        var first = await _registry.CreateDeviceAsync(new Device { DeviceId = "dev1" });
        await _registry.DeleteDeviceAsync("dev1");
        var second = await _registry.CreateDeviceAsync(new Device { DeviceId = "dev1" });
        Assert.NotEqual(first.GenerationId, second.GenerationId);
        Assert.NotEqual(first.Authentication, second.Authentication);
    }

    [Fact]
    public async Task ListDevices_ManyDevicesAcrossPartitions_AllSortedAndCapped()
    {
        for (int i = 0; i < 25; i++)
        {
            await _registry.CreateDeviceAsync(new Device { DeviceId = $"dev{i:D2}" });
        }

        await _registry.CreateModuleAsync(new Module { DeviceId = "dev00", ModuleId = "m" });
        for (int i = 0; i < 5; i++)
        {
            await _registry.UpdateDeviceAsync(new Device { DeviceId = "dev03", StatusReason = $"update {i}" }, "*");
        }

        var all = _registry.ListDevices();
        Assert.Equal(Enumerable.Range(0, 25).Select(i => $"dev{i:D2}"), all.Select(d => d.DeviceId));
        Assert.Equal("update 4", all[3].StatusReason);
        Assert.Equal(10, _registry.ListDevices(10).Count);
    }

    [Fact]
    public async Task Registry_AfterReopen_DevicesAndModulesSurvive()
    {
        var device = await _registry.CreateDeviceAsync(new Device { DeviceId = "dev1", StatusReason = "first" });
        device = await _registry.UpdateDeviceAsync(device with { StatusReason = "second" }, device.ETag);
        var module = await _registry.CreateModuleAsync(new Module { DeviceId = "dev1", ModuleId = "mod1", ManagedBy = "me" });
        await _registry.CreateDeviceAsync(new Device { DeviceId = "gone" });
        await _registry.DeleteDeviceAsync("gone");

        await ReopenAsync();

        Assert.Equal(device, _registry.GetDevice("dev1"));
        Assert.Equal(module, _registry.GetModule("dev1", "mod1"));
        Assert.Null(_registry.TryGetDevice("gone"));
    }

    [Fact]
    public async Task Registry_AfterCheckpointAndReopen_DevicesSurvive()
    {
        var device = await _registry.CreateDeviceAsync(new Device { DeviceId = "dev1" });
        await _store.CheckpointAsync();
        var later = await _registry.CreateDeviceAsync(new Device { DeviceId = "dev2" });

        await ReopenAsync();

        Assert.Equal(device, _registry.GetDevice("dev1"));
        Assert.Equal(later, _registry.GetDevice("dev2"));
    }

    [Fact]
    public async Task CreateModule_UnknownDevice_DeviceNotFound()
        => await ThrowsIotHub(IotHubErrorCode.DeviceNotFound, () => _registry.CreateModuleAsync(new Module { DeviceId = "nobody", ModuleId = "m" }).AsTask());

    [Fact]
    public async Task ModuleLifecycle_CreateGetUpdateDelete_WithCodes()
    {
        await _registry.CreateDeviceAsync(new Device { DeviceId = "dev1" });
        var module = await _registry.CreateModuleAsync(new Module { DeviceId = "dev1", ModuleId = "$edgeAgent", ManagedBy = "IotEdge" });
        Assert.Equal(AuthenticationType.Sas, module.Authentication!.Type);
        Assert.Matches("^[0-9]{18}$", module.GenerationId);

        var duplicate = await ThrowsIotHub(IotHubErrorCode.ModuleAlreadyExistsOnDevice,
            () => _registry.CreateModuleAsync(new Module { DeviceId = "dev1", ModuleId = "$edgeAgent" }).AsTask());
        Assert.Equal(409301, duplicate.Number);

        Assert.Equal(IotHubErrorCode.ModuleNotFound, Assert.Throws<IotHubException>(() => _registry.GetModule("dev1", "other")).Code);
        Assert.Equal(IotHubErrorCode.DeviceNotFound, Assert.Throws<IotHubException>(() => _registry.GetModule("nobody", "m")).Code);

        await ThrowsIotHub(IotHubErrorCode.PreconditionFailed, () => _registry.UpdateModuleAsync(module with { ManagedBy = "x" }, "\"stale\"").AsTask());
        var updated = await _registry.UpdateModuleAsync(module with { ManagedBy = "x", Authentication = null }, $"\"{module.ETag}\"");
        Assert.Equal("x", updated.ManagedBy);
        Assert.Equal(module.Authentication, updated.Authentication);
        Assert.NotEqual(module.ETag, updated.ETag);

        await ThrowsIotHub(IotHubErrorCode.PreconditionFailed, () => _registry.DeleteModuleAsync("dev1", "$edgeAgent", module.ETag).AsTask());
        await _registry.DeleteModuleAsync("dev1", "$edgeAgent", updated.ETag);
        Assert.Null(_registry.TryGetModule("dev1", "$edgeAgent"));
        await ThrowsIotHub(IotHubErrorCode.ModuleNotFound, () => _registry.DeleteModuleAsync("dev1", "$edgeAgent").AsTask());
    }

    [Fact]
    public async Task ListModules_OnlyThatDevicesModules()
    {
        await _registry.CreateDeviceAsync(new Device { DeviceId = "dev1" });
        await _registry.CreateDeviceAsync(new Device { DeviceId = "dev10" });
        await _registry.CreateModuleAsync(new Module { DeviceId = "dev1", ModuleId = "b" });
        await _registry.CreateModuleAsync(new Module { DeviceId = "dev1", ModuleId = "a" });
        await _registry.CreateModuleAsync(new Module { DeviceId = "dev10", ModuleId = "c" });

        Assert.Equal(["a", "b"], _registry.ListModules("dev1").Select(m => m.ModuleId));
        Assert.Equal(["c"], _registry.ListModules("dev10").Select(m => m.ModuleId));
        Assert.Equal(IotHubErrorCode.DeviceNotFound, Assert.Throws<IotHubException>(() => _registry.ListModules("nobody")).Code);
    }

    [Fact]
    public async Task DeleteDevice_WithModules_DeletesModulesToo()
    {
        await _registry.CreateDeviceAsync(new Device { DeviceId = "dev1" });
        await _registry.CreateModuleAsync(new Module { DeviceId = "dev1", ModuleId = "m1" });
        await _registry.CreateModuleAsync(new Module { DeviceId = "dev1", ModuleId = "m2" });
        await _registry.DeleteDeviceAsync("dev1");

        await _registry.CreateDeviceAsync(new Device { DeviceId = "dev1" });
        Assert.Empty(_registry.ListModules("dev1"));
        Assert.Null(_registry.TryGetModule("dev1", "m1"));
    }

    [Fact]
    public async Task CreateDevice_Concurrently_ExactlyOneWins()
    {
        var attempts = Enumerable.Range(0, 8)
            .Select(_ => Task.Run(async () =>
            {
                try
                {
                    await _registry.CreateDeviceAsync(new Device { DeviceId = "race" });
                    return true;
                }
                catch (IotHubException e) when (e.Code == IotHubErrorCode.DeviceAlreadyExists)
                {
                    return false;
                }
            }))
            .ToArray();
        var results = await Task.WhenAll(attempts);
        Assert.Single(results, won => won);
    }
}
