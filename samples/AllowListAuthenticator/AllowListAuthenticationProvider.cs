using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Broker.Plugins.Authentication;

namespace AllowListAuthenticator;

/// <summary>Admits a device when the SHA-256 thumbprint of its client certificate is listed for it.</summary>
public sealed class AllowListAuthenticationProvider : IDeviceAuthenticationProvider
{
    /// <summary>The method name the broker logs for devices admitted here.</summary>
    public const string MethodName = "x509-allowlist";

    private readonly AllowList _list;
    private readonly bool _declineUnlisted;

    /// <summary>Creates the provider.</summary>
    public AllowListAuthenticationProvider(AllowList list, bool declineUnlisted)
    {
        _list = list;
        _declineUnlisted = declineUnlisted;
    }

    /// <inheritdoc />
    public ValueTask<DeviceAuthenticationResult> AuthenticateAsync(DeviceAuthenticationRequest request, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        if (request.ClientCertificate.IsEmpty)
        {
            // Token devices belong to the broker's own SAS authentication.
            return ValueTask.FromResult(DeviceAuthenticationResult.NotMine);
        }

        string identity = request.ModuleId is null ? request.DeviceId : request.DeviceId + "/" + request.ModuleId;
        if (!_list.TryGetThumbprints(identity, out var thumbprints))
        {
            return ValueTask.FromResult(_declineUnlisted
                ? DeviceAuthenticationResult.Decline($"{identity} is not on the allow-list.")
                : DeviceAuthenticationResult.NotMine);
        }

        Span<byte> thumbprint = stackalloc byte[SHA256.HashSizeInBytes];
        SHA256.HashData(request.ClientCertificate.Span, thumbprint);
        foreach (byte[] listed in thumbprints)
        {
            if (CryptographicOperations.FixedTimeEquals(thumbprint, listed))
            {
                // The connection ends when the certificate does.
                using var certificate = X509CertificateLoader.LoadCertificate(request.ClientCertificate.Span);
                return ValueTask.FromResult(DeviceAuthenticationResult.Success(MethodName, new DateTimeOffset(certificate.NotAfter.ToUniversalTime())));
            }
        }

        return ValueTask.FromResult(DeviceAuthenticationResult.Decline($"the certificate of {identity} is not on the allow-list."));
    }
}
