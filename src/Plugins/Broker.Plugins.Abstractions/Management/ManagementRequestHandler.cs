namespace Broker.Plugins.Management;

/// <summary>Answers one request to a plug-in's management endpoint.</summary>
/// <param name="request">The authorized request.</param>
/// <param name="cancellationToken">Cancelled when the caller goes away.</param>
/// <returns>The response; an exception becomes a 500 with IoT Hub's error body and is logged by the host.</returns>
public delegate ValueTask<ManagementResponse> ManagementRequestHandler(ManagementRequest request, CancellationToken cancellationToken);
