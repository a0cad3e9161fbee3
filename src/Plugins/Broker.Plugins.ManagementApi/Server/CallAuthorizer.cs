using Broker.Core.Errors;
using Broker.Core.Security;
using Grpc.Core;
using Microsoft.Extensions.Logging;

namespace Broker.Management.Server;

/// <summary>
/// Checks the policy SAS token in a call's <c>authorization</c> metadata, as IoT Hub checks the Authorization
/// header of its REST API. Bad or expired tokens are UNAUTHENTICATED and genuine tokens without the right
/// PERMISSION_DENIED, both with IoT Hub's 401002.
/// </summary>
internal sealed class CallAuthorizer(ServiceAuthenticator authenticator, SharedAccessPolicies policies, TimeProvider time, ILogger<CallAuthorizer> logger)
{
    /// <summary>
    /// The caller's policy if its token grants <paramref name="rights"/> on <paramref name="resourcePath"/>
    /// (a path under the host as in the REST API, e.g. <c>devices/d1</c>; empty for the hub); throws otherwise.
    /// </summary>
    public SharedAccessPolicy Require(ServerCallContext context, AccessRights rights, string resourcePath)
    {
        var token = context.RequestHeaders.GetValue(ManagementMetadata.Authorization);
        if (string.IsNullOrWhiteSpace(token))
        {
            throw Refuse(context, ManagementErrors.MissingToken(), StatusCode.Unauthenticated);
        }

        var result = authenticator.Authenticate(token, rights, resourcePath);
        return result.Status switch
        {
            AuthStatus.Success => policies.Find(result.PolicyName)
                ?? throw Refuse(context, ManagementErrors.BadToken(), StatusCode.Unauthenticated),
            AuthStatus.Expired => throw Refuse(context, ManagementErrors.ExpiredToken(), StatusCode.Unauthenticated),
            AuthStatus.NotAuthorized => throw Refuse(context, ManagementErrors.InsufficientRights(KeyNameOf(token), rights.ToString()), StatusCode.PermissionDenied),
            _ => throw Refuse(context, ManagementErrors.BadToken(), StatusCode.Unauthenticated),
        };
    }

    private RpcException Refuse(ServerCallContext context, IotHubException error, StatusCode status)
    {
        ManagementLog.CallRefused(logger, context.Method, error.Message);
        return GrpcErrors.From(error, time, status);
    }

    /// <summary>The token's <c>skn</c>, for the message only; the token is already known to be genuine.</summary>
    private static string KeyNameOf(string token)
        => SharedAccessSignature.TryParse(token, out var sas) && sas.HasKeyName ? sas.KeyName.ToString() : "";
}
