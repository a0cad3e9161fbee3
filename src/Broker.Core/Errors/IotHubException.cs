namespace Broker.Core.Errors;

/// <summary>An operation failed with one of IoT Hub's error codes; the protocol layers turn it into their error answer.</summary>
public sealed class IotHubException : Exception
{
    /// <summary>Creates the exception.</summary>
    public IotHubException(IotHubErrorCode code, string message, Exception? innerException = null)
        : base(message, innerException)
    {
        Code = code;
    }

    /// <summary>The error code.</summary>
    public IotHubErrorCode Code { get; }

    /// <summary>The numeric code sent as <c>errorCode</c>, e.g. 404001.</summary>
    public int Number => (int)Code;

    /// <summary>The HTTP status the code belongs to (its first three digits).</summary>
    public int HttpStatus => (int)Code / 1000;
}
