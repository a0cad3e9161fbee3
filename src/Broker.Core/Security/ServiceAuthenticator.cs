namespace Broker.Core.Security;

/// <summary>
/// Authenticates back-end callers (service REST, service AMQP): a SAS token signed with a policy key
/// (<c>skn</c> required), not expired, whose policy grants the required rights and whose resource is a
/// path-segment prefix of the target (the service SDKs sign <c>sr={host}</c>, which covers everything).
/// </summary>
public sealed class ServiceAuthenticator
{
    private readonly string _hostName;
    private readonly SharedAccessPolicies _policies;
    private readonly TimeProvider _time;

    /// <summary>Creates the authenticator for the hub <paramref name="hostName"/>.</summary>
    public ServiceAuthenticator(string hostName, SharedAccessPolicies policies, TimeProvider? time = null)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(hostName);
        ArgumentNullException.ThrowIfNull(policies);
        _hostName = hostName;
        _policies = policies;
        _time = time ?? TimeProvider.System;
    }

    /// <summary>
    /// Authenticates <paramref name="token"/> (an <c>Authorization</c> header value or CBS token) for
    /// <paramref name="required"/> rights on <paramref name="resourcePath"/>, an unencoded path under the host
    /// such as <c>devices/dev1</c> (empty: the hub as a whole).
    /// </summary>
    public AuthResult Authenticate(ReadOnlySpan<char> token, AccessRights required, ReadOnlySpan<char> resourcePath = default)
    {
        if (!SharedAccessSignature.TryParse(token, out var sas) || !sas.HasKeyName)
        {
            return AuthResult.Failed(AuthStatus.BadCredentials);
        }

        var policy = _policies.Find(sas.KeyName);
        if (policy is null || !sas.IsSignedWithEither(policy.PrimaryKey, policy.SecondaryKey))
        {
            return AuthResult.Failed(AuthStatus.BadCredentials);
        }

        if (sas.IsExpired(_time.GetUtcNow()))
        {
            return AuthResult.Failed(AuthStatus.Expired);
        }

        resourcePath = resourcePath.Trim('/');
        if (resourcePath.Length > SharedAccessSignature.MaxTokenLength)
        {
            return AuthResult.Failed(AuthStatus.NotAuthorized);
        }

        Span<char> target = stackalloc char[_hostName.Length + 1 + resourcePath.Length];
        _hostName.CopyTo(target);
        int length = _hostName.Length;
        if (!resourcePath.IsEmpty)
        {
            target[length++] = '/';
            resourcePath.CopyTo(target[length..]);
            length += resourcePath.Length;
        }

        if (!policy.Grants(required) || !sas.Covers(target[..length], exact: false))
        {
            return AuthResult.Failed(AuthStatus.NotAuthorized);
        }

        sas.TryGetExpiry(out var expiresAt);
        return new AuthResult { Status = AuthStatus.Success, Method = AuthMethod.PolicyKey, PolicyName = policy.KeyName, ExpiresAt = expiresAt };
    }
}
