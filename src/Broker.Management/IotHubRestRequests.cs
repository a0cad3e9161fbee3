using Broker.Core.Errors;
using Microsoft.AspNetCore.Http;

namespace Broker.Management;

/// <summary>Reading the body of a request to one of IoT Hub's REST surfaces.</summary>
public static class IotHubRestRequests
{
    /// <summary>
    /// The whole body (possibly empty), refused with IoT Hub's 413001 MessageTooLarge once it is over
    /// <paramref name="maxBytes"/>, whether the Content-Length says so or the bytes do.
    /// </summary>
    public static async Task<byte[]> ReadBodyAsync(HttpRequest request, int maxBytes)
    {
        ArgumentNullException.ThrowIfNull(request);
        if (request.ContentLength > maxBytes)
        {
            throw TooLarge(maxBytes);
        }

        using var buffer = new MemoryStream();
        var chunk = new byte[16 * 1024];
        int read;
        while ((read = await request.Body.ReadAsync(chunk, request.HttpContext.RequestAborted).ConfigureAwait(false)) > 0)
        {
            if (buffer.Length + read > maxBytes)
            {
                throw TooLarge(maxBytes);
            }

            buffer.Write(chunk, 0, read);
        }

        return buffer.ToArray();
    }

    /// <summary>Refuses with 400004 a request without <c>?api-version=</c>, which every IoT Hub REST call carries.</summary>
    public static void RequireApiVersion(HttpRequest request)
    {
        ArgumentNullException.ThrowIfNull(request);
        if (string.IsNullOrEmpty(request.Query["api-version"]))
        {
            throw IotHubErrors.ArgumentInvalid("api-version is required in the query string.");
        }
    }

    private static IotHubException TooLarge(int maxBytes) => new(IotHubErrorCode.MessageTooLarge, $"The request body is over {maxBytes} bytes.");
}
