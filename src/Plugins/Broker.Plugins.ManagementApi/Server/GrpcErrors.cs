using System.Globalization;
using System.Text.Json;
using Broker.Core.Errors;
using Grpc.Core;

namespace Broker.Management.Server;

/// <summary>Turns IoT Hub errors into gRPC failures: a status code, the IoT Hub error JSON as detail, and the code's name as a trailer.</summary>
internal static class GrpcErrors
{
    public static RpcException From(IotHubException error, TimeProvider time, StatusCode? status = null)
    {
        var detail = new ManagementErrorDetail
        {
            ErrorCode = error.Number,
            TrackingId = Guid.NewGuid().ToString("N"),
            Message = error.Message,
            TimestampUtc = time.GetUtcNow().UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.FFFFFFF'Z'", CultureInfo.InvariantCulture),
        };
        var trailers = new Metadata { { ManagementMetadata.ErrorCode, error.Code.ToString() } };
        var json = JsonSerializer.Serialize(detail, ManagementJsonContext.Default.ManagementErrorDetail);
        return new RpcException(new Status(status ?? StatusFor(error.Code), json), trailers);
    }

    /// <summary>The gRPC status for an IoT Hub code: by its HTTP class, except the quota codes hidden among the 403s.</summary>
    public static StatusCode StatusFor(IotHubErrorCode code) => code switch
    {
        IotHubErrorCode.IotHubQuotaExceeded
            or IotHubErrorCode.DeviceMaximumQueueDepthExceeded
            or IotHubErrorCode.DeviceMaximumActiveFileUploadLimitExceeded => StatusCode.ResourceExhausted,
        _ => ((int)code / 1000) switch
        {
            400 => StatusCode.InvalidArgument,
            401 => StatusCode.Unauthenticated,
            403 => StatusCode.PermissionDenied,
            404 => StatusCode.NotFound,
            409 => StatusCode.AlreadyExists,
            412 => StatusCode.FailedPrecondition,
            413 or 429 => StatusCode.ResourceExhausted,
            500 => StatusCode.Internal,
            503 => StatusCode.Unavailable,
            504 => StatusCode.DeadlineExceeded,
            _ => StatusCode.Unknown,
        },
    };
}
