using System.Text.Json;
using Grpc.Core;

namespace Broker.Management.Tests;

/// <summary>Assertions on the gRPC failures of the management API.</summary>
internal static class Rpc
{
    /// <summary>
    /// Asserts the call fails with <paramref name="status"/>, the <c>iothub-errorcode</c> trailer
    /// <paramref name="name"/> and IoT Hub's error JSON with <paramref name="number"/> as detail; returns the message.
    /// </summary>
    public static async Task<string> FailsWith(StatusCode status, string name, int number, Func<Task> call)
    {
        var error = await Assert.ThrowsAsync<RpcException>(call);
        Assert.Equal(status, error.StatusCode);
        Assert.Equal(name, error.Trailers.GetValue("iothub-errorcode"));
        using var detail = JsonDocument.Parse(error.Status.Detail);
        Assert.Equal(number, detail.RootElement.GetProperty("errorCode").GetInt32());
        Assert.False(string.IsNullOrEmpty(detail.RootElement.GetProperty("trackingId").GetString()));
        Assert.True(DateTimeOffset.TryParse(detail.RootElement.GetProperty("timestampUtc").GetString(), out _));
        return detail.RootElement.GetProperty("message").GetString()!;
    }
}
