using Broker.Core.Errors;
using Grpc.Core;
using Grpc.Core.Interceptors;
using Microsoft.Extensions.Logging;

namespace Broker.Management.Server;

/// <summary>
/// Answers every failure of a management call with an IoT Hub error, so clients see 404001 and friends
/// rather than gRPC's bare UNKNOWN; anything unexpected is logged here and leaves as 500001 without its details.
/// </summary>
internal sealed class IotHubErrorInterceptor(TimeProvider time, ILogger<IotHubErrorInterceptor> logger) : Interceptor
{
    public override async Task<TResponse> UnaryServerHandler<TRequest, TResponse>(
        TRequest request,
        ServerCallContext context,
        UnaryServerMethod<TRequest, TResponse> continuation)
    {
        try
        {
            return await continuation(request, context).ConfigureAwait(false);
        }
        catch (IotHubException error)
        {
            throw GrpcErrors.From(error, time);
        }
        catch (Exception error) when (error is not RpcException && !context.CancellationToken.IsCancellationRequested)
        {
            ManagementLog.CallFailed(logger, context.Method, error);
            throw GrpcErrors.From(ManagementErrors.ServerError(), time);
        }
    }

    public override async Task ServerStreamingServerHandler<TRequest, TResponse>(
        TRequest request,
        IServerStreamWriter<TResponse> responseStream,
        ServerCallContext context,
        ServerStreamingServerMethod<TRequest, TResponse> continuation)
    {
        try
        {
            await continuation(request, responseStream, context).ConfigureAwait(false);
        }
        catch (IotHubException error)
        {
            throw GrpcErrors.From(error, time);
        }
        catch (Exception error) when (error is not RpcException && !context.CancellationToken.IsCancellationRequested)
        {
            ManagementLog.CallFailed(logger, context.Method, error);
            throw GrpcErrors.From(ManagementErrors.ServerError(), time);
        }
    }
}
