using System.Text;
using Broker.Core.Methods;
using Broker.Core.Security;
using Broker.Management.V1;
using Grpc.Core;

namespace Broker.Management.Server;

/// <summary>Invokes direct methods and answers with the device's status and payload.</summary>
internal sealed class MethodsGrpcService(MethodInvoker invoker, CallAuthorizer authorizer) : MethodService.MethodServiceBase
{
    public override async Task<InvokeMethodReply> InvokeMethod(InvokeMethodRequest request, ServerCallContext context)
    {
        string moduleId = request.ModuleId;
        authorizer.Require(context, AccessRights.ServiceConnect,
            moduleId.Length == 0 ? $"twins/{request.DeviceId}/methods" : $"twins/{request.DeviceId}/modules/{moduleId}/methods");
        var result = await invoker.InvokeAsync(new MethodRequest
        {
            DeviceId = request.DeviceId,
            ModuleId = moduleId.Length == 0 ? null : moduleId,
            MethodName = request.MethodName,
            Payload = Encoding.UTF8.GetBytes(request.PayloadJson),
            ResponseTimeout = TimeSpan.FromSeconds(request.HasResponseTimeoutSeconds ? request.ResponseTimeoutSeconds : 30),
            ConnectTimeout = TimeSpan.FromSeconds(request.ConnectTimeoutSeconds),
        }, context.CancellationToken).ConfigureAwait(false);
        return new InvokeMethodReply
        {
            Status = result.Status,
            PayloadJson = result.Payload is null ? "null" : Encoding.UTF8.GetString(result.Payload),
        };
    }
}
