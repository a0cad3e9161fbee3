using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Broker.Core.Registry;
using Broker.Host.Tests.Support;
using MQTTnet;
using Xunit.Abstractions;

namespace Broker.Host.Tests;

public sealed class MqttConnectTests(BrokerHostFixture fixture, ITestOutputHelper output) : IClassFixture<BrokerHostFixture>
{
    private readonly TestBroker _broker = fixture.Broker;

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task Connect_SasTokenOfARegisteredDevice_IsAccepted(bool tls)
    {
        var deviceId = $"sas-{(tls ? "tls" : "tcp")}";
        var device = await _broker.CreateDeviceAsync(deviceId);
        var token = _broker.CreateSasToken(deviceId, TestBroker.PrimaryKeyOf(device));
        using var client = new MqttClientFactory().CreateMqttClient();

        var result = await client.ConnectAsync(DeviceMqtt.Options(_broker, deviceId, token, tls));

        Assert.Equal(MqttClientConnectResultCode.Success, result.ResultCode);
        await client.DisconnectAsync();
    }

    [Fact]
    public async Task Connect_TokenSignedWithAnotherKey_IsRefusedNotAuthorized()
    {
        const string deviceId = "sas-wrong-key";
        await _broker.CreateDeviceAsync(deviceId);
        var token = _broker.CreateSasToken(deviceId, Convert.ToBase64String(RandomNumberGenerator.GetBytes(32)));
        using var client = new MqttClientFactory().CreateMqttClient();

        var result = await client.ConnectAsync(DeviceMqtt.Options(_broker, deviceId, token, tls: false));

        Assert.Equal(MqttClientConnectResultCode.NotAuthorized, result.ResultCode);
    }

    [Fact]
    public async Task Connect_X509DeviceWithItsClientCertificateOverTls_IsAccepted()
    {
        const string deviceId = "x509-self-signed";
        using var certificate = SelfSignedClientCertificate(deviceId);
        await _broker.Registry.CreateDeviceAsync(new Device
        {
            DeviceId = deviceId,
            Authentication = new AuthenticationMechanism
            {
                Type = AuthenticationType.SelfSigned,
                X509Thumbprint = new X509Thumbprint { PrimaryThumbprint = certificate.Thumbprint },
            },
        });
        using var client = new MqttClientFactory().CreateMqttClient();

        var result = await client.ConnectAsync(DeviceMqtt.Options(_broker, deviceId, password: null, tls: true, certificate));

        Assert.Equal(MqttClientConnectResultCode.Success, result.ResultCode);
        await client.DisconnectAsync();
    }

    [Fact]
    public async Task Dispose_WithAConnectedDevice_ClosesItWithoutWaitingOutTheShutdownTimeout()
    {
        // No shutdown timeout at all: a broker that waited for the device to leave would never finish disposing,
        // and the bound below would fail the test.
        var broker = await TestBroker.StartAsync(new TestBrokerOptions
        {
            Output = output,
            ConfigureServices = services => Microsoft.Extensions.DependencyInjection.OptionsServiceCollectionExtensions.Configure<Microsoft.Extensions.Hosting.HostOptions>(services, o => o.ShutdownTimeout = Timeout.InfiniteTimeSpan),
        });
        await using (broker)
        {
            var device = await broker.CreateDeviceAsync("stays-connected");
            var token = broker.CreateSasToken("stays-connected", TestBroker.PrimaryKeyOf(device));
            using var client = new MqttClientFactory().CreateMqttClient();
            var disconnected = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            client.DisconnectedAsync += _ =>
            {
                disconnected.TrySetResult();
                return Task.CompletedTask;
            };
            await client.ConnectAsync(DeviceMqtt.Options(broker, "stays-connected", token, tls: true));

            await broker.Server.DisposeAsync().AsTask().WaitAsync(TimeSpan.FromSeconds(60));
            await disconnected.Task.WaitAsync(TimeSpan.FromSeconds(30));
        }
    }

    private static X509Certificate2 SelfSignedClientCertificate(string deviceId)
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest($"CN={deviceId}", key, HashAlgorithmName.SHA256);
        request.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension([new Oid("1.3.6.1.5.5.7.3.2")], critical: false));
        var now = DateTimeOffset.UtcNow;
        using var certificate = request.CreateSelfSigned(now.AddDays(-1), now.AddDays(30));
        // SslStream on Linux wants a client certificate whose key it can hand to OpenSSL; a PKCS#12 round trip gives one on every OS.
        return X509CertificateLoader.LoadPkcs12(certificate.Export(X509ContentType.Pkcs12), password: null);
    }
}
