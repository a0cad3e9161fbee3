using System.Globalization;
using System.Text.Json.Serialization;
using Broker.Core.Errors;
using Microsoft.AspNetCore.Http;

namespace Broker.Management;

/// <summary>
/// IoT Hub's REST error answer: the status is the code's first three digits, the <c>iothub-errorcode</c> header
/// names it, and the body's <c>Message</c> starts <c>ErrorCode:{Name};</c>, the only form the Node service SDK parses
/// (it splits on ';' and ':'); <c>errorCode</c> carries the number as well.
/// </summary>
public static class IotHubRestErrors
{
    /// <summary>The header that names the error code.</summary>
    public const string ErrorCodeHeader = "iothub-errorcode";

    /// <summary>Writes the error answer of <paramref name="errorCode"/> (e.g. 404001) with <paramref name="message"/>.</summary>
    public static Task WriteAsync(HttpResponse response, int errorCode, string message, TimeProvider time)
    {
        ArgumentNullException.ThrowIfNull(response);
        response.StatusCode = errorCode / 1000;
        response.ContentType = "application/json; charset=utf-8";
        string name = Enum.IsDefined(typeof(IotHubErrorCode), errorCode) ? ((IotHubErrorCode)errorCode).ToString() : errorCode.ToString(CultureInfo.InvariantCulture);
        response.Headers[ErrorCodeHeader] = name;
        var trackingId = Guid.NewGuid().ToString("N");
        var body = new IotHubRestErrorBody(
            $"ErrorCode:{name};{message}",
            $"Tracking ID:{trackingId}-TimeStamp:{time.GetUtcNow().UtcDateTime.ToString("MM/dd/yyyy HH:mm:ss", CultureInfo.InvariantCulture)}",
            errorCode);
        return response.WriteAsync(System.Text.Json.JsonSerializer.Serialize(body, RestErrorJsonContext.Default.IotHubRestErrorBody));
    }
}

/// <summary>IoT Hub's REST error body.</summary>
internal sealed record IotHubRestErrorBody(
    [property: JsonPropertyName("Message")] string Message,
    [property: JsonPropertyName("ExceptionMessage")] string ExceptionMessage,
    [property: JsonPropertyName("errorCode")] int ErrorCode);

/// <summary>Source-generated JSON of the REST error body.</summary>
[JsonSerializable(typeof(IotHubRestErrorBody))]
internal sealed partial class RestErrorJsonContext : JsonSerializerContext
{
}
