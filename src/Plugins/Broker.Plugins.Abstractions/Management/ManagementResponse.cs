namespace Broker.Plugins.Management;

/// <summary>The answer to a <see cref="ManagementRequest"/>.</summary>
public readonly record struct ManagementResponse
{
    /// <summary>The HTTP status code.</summary>
    public int StatusCode { get; init; }

    /// <summary>The body's content type, or null without a body.</summary>
    public string? ContentType { get; init; }

    /// <summary>The response body; the host copies it before the handler's memory may be reused.</summary>
    public ReadOnlyMemory<byte> Body { get; init; }

    /// <summary>A response without a body.</summary>
    /// <param name="statusCode">The HTTP status code.</param>
    public static ManagementResponse Status(int statusCode) => new() { StatusCode = statusCode };

    /// <summary>A JSON response.</summary>
    /// <param name="statusCode">The HTTP status code.</param>
    /// <param name="utf8Json">The body, UTF-8 encoded JSON.</param>
    public static ManagementResponse Json(int statusCode, ReadOnlyMemory<byte> utf8Json) =>
        new() { StatusCode = statusCode, ContentType = "application/json; charset=utf-8", Body = utf8Json };
}
