using System.Buffers;
using System.Diagnostics.CodeAnalysis;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Broker.Core.Registry;

namespace Broker.Core.Security;

/// <summary>
/// Authenticates devices and modules against the identity registry: SAS tokens signed with the identity's own
/// key (resource exactly <c>{host}/devices/{id}[/modules/{mid}]</c>) or with a DeviceConnect policy (<c>skn</c>,
/// resource any path-segment prefix of that), and self-signed X.509 certificates by SHA-1 or SHA-256 thumbprint.
/// A disabled device refuses its modules too.
/// </summary>
public sealed class DeviceAuthenticator : IDeviceAuthenticator
{
    private readonly string _hostName;
    private readonly IdentityRegistry _registry;
    private readonly SharedAccessPolicies _policies;
    private readonly TimeProvider _time;

    /// <summary>Creates the authenticator for the hub <paramref name="hostName"/> (the <c>HostName</c> of connection strings).</summary>
    public DeviceAuthenticator(string hostName, IdentityRegistry registry, SharedAccessPolicies policies, TimeProvider? time = null)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(hostName);
        ArgumentNullException.ThrowIfNull(registry);
        ArgumentNullException.ThrowIfNull(policies);
        _hostName = hostName;
        _registry = registry;
        _policies = policies;
        _time = time ?? TimeProvider.System;
    }

    /// <inheritdoc />
    public ValueTask<AuthResult> AuthenticateAsync(DeviceCredentials credentials, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(credentials);
        return ValueTask.FromResult(Authenticate(credentials));
    }

    /// <summary>Authenticates synchronously (the registry reads are synchronous).</summary>
    public AuthResult Authenticate(DeviceCredentials credentials)
    {
        ArgumentNullException.ThrowIfNull(credentials);
        if (credentials.SasToken is { } token)
        {
            return AuthenticateToken(credentials.DeviceId, credentials.ModuleId, token);
        }

        return credentials.ClientCertificate is { } certificate
            ? AuthenticateCertificate(credentials.DeviceId, credentials.ModuleId, certificate)
            : AuthResult.Failed(AuthStatus.BadCredentials);
    }

    /// <summary>Authenticates a SAS token for the device (or module) it is presented for.</summary>
    public AuthResult AuthenticateToken(string deviceId, string? moduleId, ReadOnlySpan<char> token)
    {
        ArgumentNullException.ThrowIfNull(deviceId);
        if (!IsValidIdentity(deviceId, moduleId))
        {
            return AuthResult.Failed(AuthStatus.DeviceNotFound);
        }

        if (!SharedAccessSignature.TryParse(token, out var sas))
        {
            return AuthResult.Failed(AuthStatus.BadCredentials);
        }

        Span<char> target = stackalloc char[_hostName.Length + 2 * IdentityRules.MaxIdLength + 32];
        target = target[..WriteTarget(target, deviceId, moduleId)];
        var now = _time.GetUtcNow();
        sas.TryGetExpiry(out var expiresAt);

        if (sas.HasKeyName)
        {
            var policy = _policies.Find(sas.KeyName);
            if (policy is null || !sas.IsSignedWithEither(policy.PrimaryKey, policy.SecondaryKey))
            {
                return AuthResult.Failed(AuthStatus.BadCredentials);
            }

            if (sas.IsExpired(now))
            {
                return AuthResult.Failed(AuthStatus.Expired);
            }

            if (!policy.Grants(AccessRights.DeviceConnect) || !sas.Covers(target, exact: false))
            {
                return AuthResult.Failed(AuthStatus.NotAuthorized);
            }

            if (!Lookup(deviceId, moduleId, out var policyDevice, out var generationId, out _))
            {
                return AuthResult.Failed(AuthStatus.DeviceNotFound);
            }

            return policyDevice.Status == DeviceStatus.Disabled
                ? AuthResult.Failed(AuthStatus.DeviceDisabled)
                : Success(deviceId, moduleId, generationId, AuthMethod.PolicyKey, policy.KeyName, expiresAt);
        }

        if (!sas.Covers(target, exact: true))
        {
            return AuthResult.Failed(AuthStatus.NotAuthorized);
        }

        if (!Lookup(deviceId, moduleId, out var device, out var identityGeneration, out var authentication))
        {
            return AuthResult.Failed(AuthStatus.DeviceNotFound);
        }

        var keys = authentication?.Type == AuthenticationType.Sas ? authentication.SymmetricKey : null;
        if (keys is null || !sas.IsSignedWithEither(keys.PrimaryKey, keys.SecondaryKey))
        {
            return AuthResult.Failed(AuthStatus.BadCredentials);
        }

        if (sas.IsExpired(now))
        {
            return AuthResult.Failed(AuthStatus.Expired);
        }

        return device.Status == DeviceStatus.Disabled
            ? AuthResult.Failed(AuthStatus.DeviceDisabled)
            : Success(deviceId, moduleId, identityGeneration, AuthMethod.IdentityKey, null, expiresAt);
    }

    /// <summary>Authenticates a TLS client certificate against the identity's registered thumbprints.</summary>
    public AuthResult AuthenticateCertificate(string deviceId, string? moduleId, X509Certificate2 certificate)
    {
        ArgumentNullException.ThrowIfNull(deviceId);
        ArgumentNullException.ThrowIfNull(certificate);
        if (!IsValidIdentity(deviceId, moduleId))
        {
            return AuthResult.Failed(AuthStatus.DeviceNotFound);
        }

        if (!Lookup(deviceId, moduleId, out var device, out var generationId, out var authentication))
        {
            return AuthResult.Failed(AuthStatus.DeviceNotFound);
        }

        switch (authentication?.Type)
        {
            case AuthenticationType.SelfSigned:
                var thumbprints = authentication.X509Thumbprint;
                bool primary = ThumbprintMatches(certificate, thumbprints?.PrimaryThumbprint);
                bool secondary = ThumbprintMatches(certificate, thumbprints?.SecondaryThumbprint);
                if (!primary && !secondary)
                {
                    return AuthResult.Failed(AuthStatus.BadCredentials);
                }

                break;
            case AuthenticationType.CertificateAuthority:
                // CA-signed devices need registered, verified CAs, which the hub does not have yet.
                return AuthResult.Failed(AuthStatus.NotAuthorized);
            default:
                return AuthResult.Failed(AuthStatus.BadCredentials);
        }

        var now = _time.GetUtcNow();
        if (now < certificate.NotBefore.ToUniversalTime() || now > certificate.NotAfter.ToUniversalTime())
        {
            return AuthResult.Failed(AuthStatus.Expired);
        }

        return device.Status == DeviceStatus.Disabled
            ? AuthResult.Failed(AuthStatus.DeviceDisabled)
            : Success(deviceId, moduleId, generationId, AuthMethod.X509SelfSigned, null, null);
    }

    private static bool IsValidIdentity(string deviceId, string? moduleId)
        => IdentityRules.IsValidDeviceId(deviceId) && (moduleId is null || IdentityRules.IsValidModuleId(moduleId));

    private int WriteTarget(Span<char> destination, string deviceId, string? moduleId)
    {
        int length = 0;
        Append(destination, ref length, _hostName);
        Append(destination, ref length, "/devices/");
        Append(destination, ref length, deviceId);
        if (moduleId is not null)
        {
            Append(destination, ref length, "/modules/");
            Append(destination, ref length, moduleId);
        }

        return length;
    }

    private static void Append(Span<char> destination, ref int length, ReadOnlySpan<char> text)
    {
        text.CopyTo(destination[length..]);
        length += text.Length;
    }

    /// <summary>Finds the device and, for a module, the module; returns the identity's generation id and authentication.</summary>
    private bool Lookup(string deviceId, string? moduleId, [NotNullWhen(true)] out Device? device, out string? generationId,
        out AuthenticationMechanism? authentication)
    {
        generationId = null;
        authentication = null;
        device = _registry.TryGetDevice(deviceId);
        if (device is null)
        {
            return false;
        }

        if (moduleId is null)
        {
            generationId = device.GenerationId;
            authentication = device.Authentication;
            return true;
        }

        var module = _registry.TryGetModule(deviceId, moduleId);
        if (module is null)
        {
            device = null;
            return false;
        }

        generationId = module.GenerationId;
        authentication = module.Authentication;
        return true;
    }

    private static bool ThumbprintMatches(X509Certificate2 certificate, string? thumbprint)
    {
        if (thumbprint is null || thumbprint.Length is not (40 or 64))
        {
            return false;
        }

        Span<byte> expected = stackalloc byte[32];
        if (Convert.FromHexString(thumbprint, expected, out _, out int expectedLength) != OperationStatus.Done)
        {
            return false;
        }

        var algorithm = expectedLength == 20 ? HashAlgorithmName.SHA1 : HashAlgorithmName.SHA256;
        Span<byte> actual = stackalloc byte[32];
        return certificate.TryGetCertHash(algorithm, actual, out int actualLength)
            && CryptographicOperations.FixedTimeEquals(actual[..actualLength], expected[..expectedLength]);
    }

    private static AuthResult Success(string deviceId, string? moduleId, string? generationId, AuthMethod method, string? policyName, DateTimeOffset? expiresAt)
        => new()
        {
            Status = AuthStatus.Success,
            Method = method,
            DeviceId = deviceId,
            ModuleId = moduleId,
            GenerationId = generationId,
            PolicyName = policyName,
            ExpiresAt = expiresAt,
        };
}
