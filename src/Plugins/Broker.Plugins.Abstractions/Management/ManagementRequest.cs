namespace Broker.Plugins.Management;

/// <summary>An authorized request to a plug-in's management endpoint.</summary>
public sealed record ManagementRequest
{
    /// <summary>The HTTP method.</summary>
    public required string Method { get; init; }

    /// <summary>The request path, including the host's prefix.</summary>
    public required string Path { get; init; }

    /// <summary>The values of the route template's parameters, by name.</summary>
    public required IReadOnlyDictionary<string, string> RouteValues { get; init; }

    /// <summary>The query string's parameters; a repeated parameter keeps its last value.</summary>
    public required IReadOnlyDictionary<string, string> Query { get; init; }

    /// <summary>The shared access policy whose token authorized the call.</summary>
    public required string PolicyName { get; init; }

    /// <summary>The request body's content type, or null without a body.</summary>
    public string? ContentType { get; init; }

    /// <summary>The request body (bounded by the host's request size limit); only valid until the handler's task completes.</summary>
    public ReadOnlyMemory<byte> Body { get; init; }
}
