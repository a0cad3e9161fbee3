using System.Collections;
using Microsoft.Extensions.DependencyInjection;

namespace Broker.Plugins.Loading;

/// <summary>
/// What a plug-in's <see cref="IBrokerPlugin.ConfigureServices"/> sees: the host's registrations (so TryAdd
/// finds them) followed by the plug-in's own. Additions are staged and reach the host only if the call
/// returns, so a plug-in that throws leaves nothing behind; the host's registrations cannot be removed or
/// replaced.
/// </summary>
internal sealed class PluginServiceCollection : IServiceCollection
{
    private readonly IServiceCollection _host;
    private readonly int _hostCount;
    private readonly List<ServiceDescriptor> _added = [];

    public PluginServiceCollection(IServiceCollection host)
    {
        _host = host;
        _hostCount = host.Count;
    }

    public IReadOnlyList<ServiceDescriptor> Added => _added;

    public int Count => _hostCount + _added.Count;

    public bool IsReadOnly => false;

    public ServiceDescriptor this[int index]
    {
        get => index < _hostCount ? _host[index] : _added[index - _hostCount];
        set => _added[OwnIndex(index)] = value;
    }

    public void Add(ServiceDescriptor item)
    {
        ArgumentNullException.ThrowIfNull(item);
        _added.Add(item);
    }

    public void Insert(int index, ServiceDescriptor item)
    {
        ArgumentNullException.ThrowIfNull(item);
        _added.Insert(index == Count ? _added.Count : OwnIndex(index), item);
    }

    public bool Remove(ServiceDescriptor item)
    {
        if (_added.Remove(item))
        {
            return true;
        }

        return IndexOfHost(item) >= 0 ? throw HostOwned() : false;
    }

    public void RemoveAt(int index) => _added.RemoveAt(OwnIndex(index));

    public void Clear() => throw HostOwned();

    public bool Contains(ServiceDescriptor item) => IndexOf(item) >= 0;

    public int IndexOf(ServiceDescriptor item)
    {
        int host = IndexOfHost(item);
        if (host >= 0)
        {
            return host;
        }

        int own = _added.IndexOf(item);
        return own < 0 ? -1 : _hostCount + own;
    }

    public void CopyTo(ServiceDescriptor[] array, int arrayIndex)
    {
        ArgumentNullException.ThrowIfNull(array);
        for (int i = 0; i < Count; i++)
        {
            array[arrayIndex + i] = this[i];
        }
    }

    public IEnumerator<ServiceDescriptor> GetEnumerator()
    {
        for (int i = 0; i < Count; i++)
        {
            yield return this[i];
        }
    }

    IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();

    private int IndexOfHost(ServiceDescriptor item)
    {
        for (int i = 0; i < _hostCount; i++)
        {
            if (ReferenceEquals(_host[i], item))
            {
                return i;
            }
        }

        return -1;
    }

    private int OwnIndex(int index)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(index);
        return index < _hostCount ? throw HostOwned() : index - _hostCount;
    }

    private static InvalidOperationException HostOwned() =>
        new("A plug-in may add services but not remove or replace the host's.");
}
