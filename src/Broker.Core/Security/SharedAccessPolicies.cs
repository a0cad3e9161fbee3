using System.Buffers;
using System.Text;
using System.Text.Json;
using Broker.Core.Registry;
using Broker.Core.Storage;

namespace Broker.Core.Security;

/// <summary>
/// The hub's shared access policies. The built-in ones are generated with fresh keys on first start and stored
/// as one hub record in partition 0, so every later start loads the same keys.
/// </summary>
public sealed class SharedAccessPolicies
{
    /// <summary>The hub record that holds the policies.</summary>
    public const string StorageKey = "sharedAccessPolicies";

    private readonly SharedAccessPolicy[] _policies;

    /// <summary>Wraps a set of policies.</summary>
    public SharedAccessPolicies(IEnumerable<SharedAccessPolicy> policies)
    {
        ArgumentNullException.ThrowIfNull(policies);
        _policies = [.. policies];
    }

    /// <summary>Every policy.</summary>
    public IReadOnlyList<SharedAccessPolicy> All => _policies;

    /// <summary>The policy with that name (case-insensitive, URL-decoded as <c>skn</c> may be), or null.</summary>
    public SharedAccessPolicy? Find(ReadOnlySpan<char> keyName)
    {
        if (keyName.IndexOf('%') >= 0 && keyName.Length <= 256)
        {
            Span<char> decoded = stackalloc char[keyName.Length];
            return PercentDecoding.TryDecode(keyName, decoded, out int length) ? FindExact(decoded[..length]) : null;
        }

        return FindExact(keyName);
    }

    private SharedAccessPolicy? FindExact(ReadOnlySpan<char> keyName)
    {
        foreach (var policy in _policies)
        {
            if (keyName.Equals(policy.KeyName, StringComparison.OrdinalIgnoreCase))
            {
                return policy;
            }
        }

        return null;
    }

    /// <summary>IoT Hub's built-in policies with fresh keys.</summary>
    public static SharedAccessPolicies CreateDefaults() => new(
    [
        NewPolicy("iothubowner", AccessRights.RegistryRead | AccessRights.RegistryWrite | AccessRights.ServiceConnect | AccessRights.DeviceConnect),
        NewPolicy("service", AccessRights.ServiceConnect),
        NewPolicy("device", AccessRights.DeviceConnect),
        NewPolicy("registryRead", AccessRights.RegistryRead),
        NewPolicy("registryReadWrite", AccessRights.RegistryRead | AccessRights.RegistryWrite),
    ]);

    /// <summary>Loads the stored policies, or creates, stores (durably) and returns the defaults on first start.</summary>
    public static async ValueTask<SharedAccessPolicies> LoadOrCreateAsync(IHubStore store, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(store);
        var state = store.GetPartition(0).State;
        var key = Encoding.ASCII.GetBytes(StorageKey);
        var buffer = new ArrayBufferWriter<byte>(1024);
        if (state.TryRead(StateRecordKind.Hub, key, buffer))
        {
            var stored = JsonSerializer.Deserialize(buffer.WrittenSpan, RegistryJsonContext.Default.ListSharedAccessPolicy)
                ?? throw new InvalidDataException("The stored shared access policies are empty.");
            return new SharedAccessPolicies(stored);
        }

        var created = CreateDefaults();
        var json = JsonSerializer.SerializeToUtf8Bytes([.. created._policies], RegistryJsonContext.Default.ListSharedAccessPolicy);
        long address = state.Upsert(StateRecordKind.Hub, key, json);
        await state.WaitDurableAsync(address, cancellationToken).ConfigureAwait(false);
        return created;
    }

    private static SharedAccessPolicy NewPolicy(string name, AccessRights rights) => new()
    {
        KeyName = name,
        PrimaryKey = SymmetricKeys.Generate(),
        SecondaryKey = SymmetricKeys.Generate(),
        Rights = rights,
    };
}
