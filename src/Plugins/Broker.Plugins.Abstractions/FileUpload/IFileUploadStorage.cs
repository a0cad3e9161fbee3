namespace Broker.Plugins.FileUpload;

/// <summary>
/// Where devices upload files (IoT Hub's file upload: the device asks the hub for a storage URI, uploads
/// straight to storage, then tells the hub the outcome). Register one implementation as a service.
/// </summary>
/// <remarks>
/// The host authenticates the device, applies IoT Hub's limits (concurrent uploads per device, URI time to
/// live) and sends the service's file upload notification; the storage only hands out upload locations and
/// confirms finished uploads.
/// </remarks>
public interface IFileUploadStorage
{
    /// <summary>
    /// Creates a location the device may upload <see cref="FileUploadRequest.BlobName"/> to until
    /// <see cref="FileUploadRequest.ExpiresAt"/> (IoT Hub's <c>POST /devices/{id}/files</c>).
    /// </summary>
    /// <param name="request">Who uploads which blob, and until when the location must work.</param>
    /// <param name="cancellationToken">Cancelled when the device's request is abandoned.</param>
    /// <returns>What the host returns to the device; the device uploads to
    /// <c>https://{HostName}/{ContainerName}/{BlobName}{SasToken}</c>.</returns>
    ValueTask<FileUploadTarget> CreateUploadAsync(FileUploadRequest request, CancellationToken cancellationToken);

    /// <summary>
    /// Records the device's report that an upload finished (IoT Hub's <c>POST /devices/{id}/files/notifications</c>).
    /// </summary>
    /// <param name="completion">The correlation id from <see cref="CreateUploadAsync"/> and the device's outcome.</param>
    /// <param name="cancellationToken">Cancelled when the device's request is abandoned.</param>
    /// <returns>The stored file, which the host announces in a file upload notification; or null when the upload
    /// failed or the file is not there, in which case no notification is sent.</returns>
    ValueTask<UploadedFile?> CompleteUploadAsync(FileUploadCompletion completion, CancellationToken cancellationToken);
}
