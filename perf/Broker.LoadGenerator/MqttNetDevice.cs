using System.Diagnostics;
using System.Net;
using System.Security.Cryptography.X509Certificates;
using MQTTnet;
using MQTTnet.Formatter;
using MQTTnet.Protocol;

namespace Broker.LoadGenerator;

/// <summary>
/// A device on an MQTTnet 5 client, flat out: QoS 1 keeps <see cref="LoadOptions.Window"/> PublishAsync calls in
/// flight (each completes on its PUBACK), QoS 0 one at a time. Kept to measure what the library costs the generator.
/// </summary>
internal sealed class MqttNetDevice(DeviceCredentials credentials, LoadOptions options, byte[] payload)
    : SimulatedDevice(credentials, options, payload)
{
    private readonly IMqttClient _client = new MqttClientFactory().CreateMqttClient();

    public override async Task ConnectAsync(CancellationToken cancellationToken)
    {
        var builder = new MqttClientOptionsBuilder()
            .WithTcpServer(Options.Host, Options.Port)
            .WithClientId(Credentials.DeviceId)
            .WithCredentials(Credentials.UserName, Credentials.Password)
            .WithProtocolVersion(MqttProtocolVersion.V311)
            .WithCleanSession()
            .WithKeepAlivePeriod(TimeSpan.FromSeconds(300))
            .WithTimeout(TimeSpan.FromSeconds(30));
        if (Options.Tls)
        {
            var ca = X509Certificate2.CreateFromPem(File.ReadAllText(Options.CaFile!));
            builder.WithTlsOptions(tls => tls
                .UseTls()
                .WithTargetHost(IPAddress.TryParse(Options.Host, out _) ? "localhost" : Options.Host)
                .WithTrustChain([ca]));
        }

        var result = await _client.ConnectAsync(builder.Build(), cancellationToken).ConfigureAwait(false);
        if (result.ResultCode != MqttClientConnectResultCode.Success)
        {
            throw new LoadException($"{Credentials.DeviceId}: the broker refused CONNECT ({result.ResultCode}).");
        }
    }

    public override async Task RunAsync(RunClock clock)
    {
        var message = new MqttApplicationMessageBuilder()
            .WithTopic(Topic)
            .WithPayload(Payload)
            .WithQualityOfServiceLevel(Options.Qos == 1 ? MqttQualityOfServiceLevel.AtLeastOnce : MqttQualityOfServiceLevel.AtMostOnce)
            .Build();
        var workers = Options.Qos == 1 ? Options.Window : 1;

        // One histogram and counter per worker keeps recording single-writer; merged once the run is over.
        var results = await Task.WhenAll(Enumerable.Range(0, workers).Select(_ => Task.Run(() => WorkAsync(message, clock)))).ConfigureAwait(false);
        foreach (var (histogram, published, acknowledged) in results)
        {
            Latency.Add(histogram);
            Published += published;
            Acknowledged += acknowledged;
        }
    }

    public override async Task DrainAsync(CancellationToken cancellationToken)
    {
        // QoS 1 calls complete on their PUBACK, so RunAsync has drained already; QoS 0 needs the in-order PINGRESP.
        if (Options.Qos == 0 && Failure is null)
        {
            await _client.PingAsync(cancellationToken).ConfigureAwait(false);
        }
    }

    public override async ValueTask DisposeAsync()
    {
        try
        {
            if (_client.IsConnected)
            {
                using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(5));
                await _client.DisconnectAsync(new MqttClientDisconnectOptions(), timeout.Token).ConfigureAwait(false);
            }
        }
        catch (Exception e) when (e is MQTTnet.Exceptions.MqttCommunicationException or OperationCanceledException)
        {
            // Already gone.
        }

        _client.Dispose();
    }

    private async Task<(LatencyHistogram Histogram, long Published, long Acknowledged)> WorkAsync(MqttApplicationMessage message, RunClock clock)
    {
        var histogram = new LatencyHistogram();
        long published = 0;
        long acknowledged = 0;
        try
        {
            while (!clock.Stop.IsCancellationRequested)
            {
                var sentAt = Stopwatch.GetTimestamp();
                await _client.PublishAsync(message, CancellationToken.None).ConfigureAwait(false);
                var now = Stopwatch.GetTimestamp();
                if (clock.InWindow(sentAt))
                {
                    published++;
                }

                if (Options.Qos == 1 && clock.InWindow(now))
                {
                    acknowledged++;
                    if (clock.InWindow(sentAt))
                    {
                        histogram.Record(RunClock.ToNanoseconds(now - sentAt));
                    }
                }
            }
        }
        catch (Exception e) when (e is MQTTnet.Exceptions.MqttCommunicationException or OperationCanceledException or InvalidOperationException)
        {
            Failure ??= e;
        }

        return (histogram, published, acknowledged);
    }
}
