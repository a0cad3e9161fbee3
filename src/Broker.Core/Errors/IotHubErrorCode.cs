namespace Broker.Core.Errors;

/// <summary>
/// IoT Hub's error codes: the number is sent as <c>errorCode</c>, the name as the <c>iothub-errorcode</c> header
/// and in the legacy <c>ErrorCode:{name};…</c> body, and the first three digits are the HTTP status. This is the
/// one table of them; add codes here, never as literals elsewhere.
/// </summary>
public enum IotHubErrorCode
{
    /// <summary>A request argument is malformed or out of range.</summary>
    ArgumentInvalid = 400004,

    /// <summary>A required argument is missing.</summary>
    ArgumentNull = 400005,

    /// <summary>File upload is requested but no storage endpoint is configured.</summary>
    DefaultStorageEndpointNotConfigured = 400014,

    /// <summary>A file upload notification names an unknown correlation id.</summary>
    InvalidFileUploadCorrelationId = 400015,

    /// <summary>A file upload notification names an expired correlation id.</summary>
    ExpiredFileUploadCorrelationId = 400016,

    /// <summary>The storage endpoint or blob of a file upload is invalid.</summary>
    InvalidStorageEndpointOrBlob = 400020,

    /// <summary>A connection was closed because the same identity connected again.</summary>
    ConnectionForcefullyClosedOnNewConnection = 400027,

    /// <summary>The hub named by the request does not exist.</summary>
    IotHubNotFound = 401001,

    /// <summary>The credentials were refused (what the service returns today).</summary>
    IotHubUnauthorizedAccess = 401002,

    /// <summary>The credentials were refused or expired (the code logged when an MQTT token expires).</summary>
    IotHubUnauthorized = 401003,

    /// <summary>The daily message quota is used up.</summary>
    IotHubQuotaExceeded = 403002,

    /// <summary>The device already has the maximum number of queued cloud-to-device messages (50).</summary>
    DeviceMaximumQueueDepthExceeded = 403004,

    /// <summary>The device already has 10 active file uploads.</summary>
    DeviceMaximumActiveFileUploadLimitExceeded = 403006,

    /// <summary>The operation is not available in the hub's tier.</summary>
    OperationNotAvailableInCurrentTier = 403010,

    /// <summary>The device is disabled.</summary>
    DeviceDisabled = 403012,

    /// <summary>The device is not registered (or is disabled, for service operations).</summary>
    DeviceNotFound = 404001,

    /// <summary>The job does not exist.</summary>
    JobNotFound = 404002,

    /// <summary>The module is not registered on the device.</summary>
    ModuleNotFound = 404010,

    /// <summary>The device is not connected or not subscribed to direct methods.</summary>
    DeviceNotOnline = 404103,

    /// <summary>The device closed its connection.</summary>
    DeviceConnectionClosedRemotely = 404104,

    /// <summary>A device with the same id is already registered.</summary>
    DeviceAlreadyExists = 409001,

    /// <summary>A second link for the same purpose was opened.</summary>
    LinkCreationConflict = 409002,

    /// <summary>A job with the same id already exists.</summary>
    JobAlreadyExists = 409104,

    /// <summary>A module with the same id is already registered on the device.</summary>
    ModuleAlreadyExistsOnDevice = 409301,

    /// <summary>The If-Match etag does not match the current one.</summary>
    PreconditionFailed = 412001,

    /// <summary>A cloud-to-device message was settled after its lock expired.</summary>
    DeviceMessageLockLost = 412002,

    /// <summary>The message exceeds the size limit.</summary>
    MessageTooLarge = 413001,

    /// <summary>The hub's device limit is reached.</summary>
    TooManyDevices = 413002,

    /// <summary>The device's module limit is reached.</summary>
    TooManyModulesOnDevice = 413003,

    /// <summary>The operation's throttle limit is exceeded.</summary>
    ThrottlingException = 429001,

    /// <summary>The throttle backlog is full.</summary>
    ThrottleBacklogLimitExceeded = 429002,

    /// <summary>A request waited in the throttle backlog for too long.</summary>
    ThrottlingBacklogTimeout = 429003,

    /// <summary>Too many jobs are active.</summary>
    ThrottlingMaxActiveJobCountExceeded = 429004,

    /// <summary>The hub failed internally.</summary>
    ServerError = 500001,

    /// <summary>The hub is temporarily unavailable.</summary>
    ServiceUnavailable = 503001,

    /// <summary>The device did not answer in time.</summary>
    GatewayTimeout = 504101,
}
