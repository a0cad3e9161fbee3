using System.Text.Json;
using Broker.Core.Registry;
using Broker.Core.Security;
using Broker.Management.V1;
using Grpc.Core;

namespace Broker.Management.Server;

/// <summary>The shared access policies over gRPC, read-only; keys only for policies the caller's own policy covers.</summary>
internal sealed class PoliciesGrpcService(SharedAccessPolicies policies, CallAuthorizer authorizer) : PolicyService.PolicyServiceBase
{
    public override Task<ListPoliciesReply> ListPolicies(ListPoliciesRequest request, ServerCallContext context)
    {
        var caller = authorizer.Require(context, AccessRights.RegistryRead, "");
        var reply = new ListPoliciesReply();
        foreach (var policy in policies.All)
        {
            reply.PoliciesJson.Add(Write(policy, caller));
        }

        return Task.FromResult(reply);
    }

    public override Task<PolicyReply> GetPolicy(GetPolicyRequest request, ServerCallContext context)
    {
        var caller = authorizer.Require(context, AccessRights.RegistryRead, "");
        var policy = string.IsNullOrEmpty(request.Name) ? null : policies.Find(request.Name);
        return policy is null
            ? throw ManagementErrors.PolicyNotFound(request.Name)
            : Task.FromResult(new PolicyReply { PolicyJson = Write(policy, caller) });
    }

    /// <summary>
    /// The policy as JSON, its keys blanked unless the caller already holds all its rights: handing a
    /// registryRead caller the iothubowner keys would make RegistryRead worth every right.
    /// </summary>
    private static string Write(SharedAccessPolicy policy, SharedAccessPolicy caller)
    {
        var shown = caller.Grants(policy.Rights) ? policy : policy with { PrimaryKey = "", SecondaryKey = "" };
        return JsonSerializer.Serialize(shown, RegistryJsonContext.Default.SharedAccessPolicy);
    }
}
