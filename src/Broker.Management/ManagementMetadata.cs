namespace Broker.Management;

/// <summary>The gRPC metadata names of the management API, shared by the service and its clients.</summary>
public static class ManagementMetadata
{
    /// <summary>The request header that carries the policy SAS token (gRPC metadata keys are lower case).</summary>
    public const string Authorization = "authorization";

    /// <summary>The trailer that names the IoT Hub error of a failed call, as the HTTP header of the same name does.</summary>
    public const string ErrorCode = "iothub-errorcode";
}
