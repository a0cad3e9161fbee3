namespace Broker.Core.Query;

/// <summary>The collection a query reads.</summary>
public enum QuerySource : byte
{
    /// <summary><c>FROM devices</c>: device twins.</summary>
    Devices,

    /// <summary><c>FROM devices.modules</c>: module twins.</summary>
    Modules,

    /// <summary><c>FROM devices.jobs</c>: the per-device rows of jobs (<c>SELECT *</c> only, as on IoT Hub).</summary>
    Jobs,
}

/// <summary>One item of a SELECT list: a path (named by its alias or last segment), or <c>COUNT()</c>.</summary>
internal sealed record SelectItem(string Name, PathExpression? Path)
{
    public bool IsCount => Path is null;
}

/// <summary>A parsed query: <c>SELECT [TOP n] * | items FROM source [WHERE condition]</c>.</summary>
internal sealed record TwinQuery(int? Top, IReadOnlyList<SelectItem>? Items, QuerySource Source, QueryExpression? Where)
{
    public bool SelectsAll => Items is null;

    public bool IsCount => Items is [{ IsCount: true }];
}
