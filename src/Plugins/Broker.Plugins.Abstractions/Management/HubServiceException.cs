namespace Broker.Plugins.Management;

/// <summary>An <see cref="IHubServiceClient"/> call failed with one of IoT Hub's error codes.</summary>
public sealed class HubServiceException : Exception
{
    /// <summary>Creates the exception.</summary>
    /// <param name="errorCode">IoT Hub's six-digit error code, for example 404001 (DeviceNotFound).</param>
    /// <param name="message">IoT Hub's error message.</param>
    public HubServiceException(int errorCode, string message)
        : base(message)
    {
        ErrorCode = errorCode;
    }

    /// <summary>IoT Hub's six-digit error code, for example 404001.</summary>
    public int ErrorCode { get; }

    /// <summary>The HTTP status the error code belongs to (its first three digits).</summary>
    public int StatusCode => ErrorCode / 1000;
}
