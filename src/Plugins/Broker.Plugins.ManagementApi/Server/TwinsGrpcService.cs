using System.Text;
using Broker.Core.Security;
using Broker.Core.Twins;
using Broker.Management.V1;
using Grpc.Core;

namespace Broker.Management.Server;

/// <summary>Reads, patches and replaces device and module twins.</summary>
internal sealed class TwinsGrpcService(Core.Twins.TwinService twins, CallAuthorizer authorizer) : V1.TwinService.TwinServiceBase
{
    public override Task<TwinReply> GetTwin(GetTwinRequest request, ServerCallContext context)
    {
        authorizer.Require(context, AccessRights.ServiceConnect, PathOf(request.DeviceId, request.ModuleId));
        return Task.FromResult(Reply(twins.GetTwin(request.DeviceId, ModuleOf(request.ModuleId))));
    }

    public override async Task<TwinReply> UpdateTwin(UpdateTwinRequest request, ServerCallContext context)
    {
        authorizer.Require(context, AccessRights.ServiceConnect, PathOf(request.DeviceId, request.ModuleId));
        var twin = await twins.UpdateTwinAsync(request.DeviceId, ModuleOf(request.ModuleId), Encoding.UTF8.GetBytes(request.TwinJson),
            IfMatchOf(request.IfMatch), context.CancellationToken).ConfigureAwait(false);
        return Reply(twin);
    }

    public override async Task<TwinReply> ReplaceTwin(UpdateTwinRequest request, ServerCallContext context)
    {
        authorizer.Require(context, AccessRights.ServiceConnect, PathOf(request.DeviceId, request.ModuleId));
        var twin = await twins.ReplaceTwinAsync(request.DeviceId, ModuleOf(request.ModuleId), Encoding.UTF8.GetBytes(request.TwinJson),
            IfMatchOf(request.IfMatch), context.CancellationToken).ConfigureAwait(false);
        return Reply(twin);
    }

    private static TwinReply Reply(byte[] twin) => new() { TwinJson = Encoding.UTF8.GetString(twin) };

    private static string? ModuleOf(string moduleId) => moduleId.Length == 0 ? null : moduleId;

    private static string? IfMatchOf(string ifMatch) => ifMatch.Length == 0 ? null : ifMatch;

    private static string PathOf(string deviceId, string moduleId) => moduleId.Length == 0 ? $"twins/{deviceId}" : $"twins/{deviceId}/modules/{moduleId}";
}
