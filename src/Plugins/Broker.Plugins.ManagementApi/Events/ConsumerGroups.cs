using System.Buffers;
using System.Text;
using System.Text.Json;
using Broker.Core.Errors;
using Broker.Core.Storage;

namespace Broker.Management.Events;

/// <summary>
/// The consumer groups of the built-in events endpoint: <c>$Default</c>, which always exists, plus up to 19
/// more, kept as one hub record (a JSON array of names) in partition 0. A group's checkpoints are the named
/// reader positions <c>consumerGroups/{name}</c> of each partition's events log.
/// </summary>
internal sealed class ConsumerGroups(IHubStore store)
{
    /// <summary>The group every hub has and nobody can delete.</summary>
    public const string DefaultName = "$Default";

    /// <summary>IoT Hub's limit per hub (standard tiers), <c>$Default</c> included.</summary>
    public const int MaxCount = 20;

    /// <summary>The longest name IoT Hub accepts.</summary>
    public const int MaxNameLength = 50;

    /// <summary>The hub record that holds the user-created names.</summary>
    public const string StorageKey = "consumerGroups";

    private static readonly byte[] s_key = Encoding.ASCII.GetBytes(StorageKey);

    private readonly SemaphoreSlim _writeLock = new(1, 1);
    private readonly Lock _lock = new();
    private List<string>? _names;

    /// <summary>The reader name under which a group's checkpoint is kept in each partition.</summary>
    public static string ReaderName(string group) => "consumerGroups/" + group;

    /// <summary>Every group, <c>$Default</c> first, then the others by name.</summary>
    public IReadOnlyList<string> List()
    {
        lock (_lock)
        {
            return [DefaultName, .. Load()];
        }
    }

    /// <summary>The stored spelling of <paramref name="name"/> (names compare case-insensitively, as in Event Hubs); throws if unknown.</summary>
    public string Resolve(string? name)
    {
        if (string.IsNullOrEmpty(name))
        {
            return DefaultName;
        }

        return Find(name) ?? throw ConsumerGroupNotFound(name);
    }

    /// <summary>Adds a group (existing names succeed, as IoT Hub's PUT does); returns its stored spelling.</summary>
    public async Task<string> CreateAsync(string name, CancellationToken cancellationToken)
    {
        Validate(name);
        await _writeLock.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            if (Find(name) is { } existing)
            {
                return existing;
            }

            List<string> names;
            lock (_lock)
            {
                if (Load().Count + 1 >= MaxCount)
                {
                    throw new IotHubException(IotHubErrorCode.IotHubQuotaExceeded,
                        $"A hub can have at most {MaxCount} consumer groups on its events endpoint, $Default included.");
                }

                names = [.. Load(), name];
                names.Sort(StringComparer.OrdinalIgnoreCase);
            }

            await SaveAsync(names, cancellationToken).ConfigureAwait(false);
            return name;
        }
        finally
        {
            _writeLock.Release();
        }
    }

    /// <summary>Removes a group and its checkpoints in every partition.</summary>
    public async Task<string> DeleteAsync(string name, CancellationToken cancellationToken)
    {
        if (string.Equals(name, DefaultName, StringComparison.OrdinalIgnoreCase))
        {
            throw IotHubErrors.ArgumentInvalid($"The {DefaultName} consumer group cannot be deleted.");
        }

        await _writeLock.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            var existing = Find(name) ?? throw ConsumerGroupNotFound(name);
            List<string> names;
            lock (_lock)
            {
                names = [.. Load().Where(n => n != existing)];
            }

            await SaveAsync(names, cancellationToken).ConfigureAwait(false);
            for (int i = 0; i < store.PartitionCount; i++)
            {
                var partition = store.GetPartition(i);
                long address = partition.Events.DeleteReader(ReaderName(existing));
                await partition.State.WaitDurableAsync(address, cancellationToken).ConfigureAwait(false);
            }

            return existing;
        }
        finally
        {
            _writeLock.Release();
        }
    }

    /// <summary>Throws 400004 unless <paramref name="name"/> is 1–50 letters, digits, '.', '_' or '-'.</summary>
    public static void Validate(string name)
    {
        if (string.IsNullOrEmpty(name) || name.Length > MaxNameLength || !name.All(c => char.IsAsciiLetterOrDigit(c) || c is '.' or '_' or '-'))
        {
            throw IotHubErrors.ArgumentInvalid(
                $"Consumer group name '{name}' is invalid: use 1 to {MaxNameLength} letters, digits, '.', '_' or '-'.");
        }
    }

    private string? Find(string name)
    {
        if (string.Equals(name, DefaultName, StringComparison.OrdinalIgnoreCase))
        {
            return DefaultName;
        }

        lock (_lock)
        {
            return Load().FirstOrDefault(n => string.Equals(n, name, StringComparison.OrdinalIgnoreCase));
        }
    }

    private static IotHubException ConsumerGroupNotFound(string name)
        => IotHubErrors.ArgumentInvalid($"Consumer group '{name}' does not exist on the events endpoint.");

    /// <summary>The user-created names (callers hold <see cref="_lock"/>).</summary>
    private List<string> Load()
    {
        if (_names is null)
        {
            var buffer = new ArrayBufferWriter<byte>(256);
            _names = store.GetPartition(0).State.TryRead(StateRecordKind.Hub, s_key, buffer)
                ? JsonSerializer.Deserialize(buffer.WrittenSpan, ManagementJsonContext.Default.ListString) ?? []
                : [];
        }

        return _names;
    }

    private async Task SaveAsync(List<string> names, CancellationToken cancellationToken)
    {
        var state = store.GetPartition(0).State;
        long address;
        lock (_lock)
        {
            address = state.Upsert(StateRecordKind.Hub, s_key, JsonSerializer.SerializeToUtf8Bytes(names, ManagementJsonContext.Default.ListString));
            _names = names;
        }

        await state.WaitDurableAsync(address, cancellationToken).ConfigureAwait(false);
    }
}
