using System.Diagnostics;

namespace Broker.LoadGenerator;

/// <summary>What one run measured.</summary>
internal sealed record RunResult
{
    public required LoadOptions Options { get; init; }

    public required int ConnectedDevices { get; init; }

    public required int FailedDevices { get; init; }

    public required double ConnectSeconds { get; init; }

    public required long Messages { get; init; }

    /// <summary>The window, plus for QoS 0 the time the broker took to read what was already sent (PINGRESP).</summary>
    public required double MeasuredSeconds { get; init; }

    public required LatencyHistogram Latency { get; init; }

    public required double GeneratorCpuPercent { get; init; }

    public required double? BrokerCpuPercent { get; init; }

    public required double MachineCpuPercent { get; init; }

    public string? FirstFailure { get; init; }

    public double ConnectsPerSecond => ConnectSeconds > 0 ? ConnectedDevices / ConnectSeconds : 0;

    public double MessagesPerSecond => MeasuredSeconds > 0 ? Messages / MeasuredSeconds : 0;

    public double MegabytesPerSecond => MessagesPerSecond * Options.PayloadBytes / 1e6;
}

/// <summary>Connects every device, runs the warm-up and the measured window, drains and disconnects; every step bounded.</summary>
internal static class LoadRunner
{
    private static readonly TimeSpan ConnectTimeout = TimeSpan.FromSeconds(60);
    private static readonly TimeSpan StopTimeout = TimeSpan.FromSeconds(30);

    public static async Task<RunResult> RunAsync(LoadOptions options, DeviceCredentials[] credentials, CancellationToken cancellationToken)
    {
        var payload = new byte[options.PayloadBytes];
        Array.Fill(payload, (byte)'x');
        var devices = credentials.Select(c => SimulatedDevice.Create(c, options, payload)).ToArray();
        try
        {
            var connectStarted = Stopwatch.GetTimestamp();
            using (var connectTimeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken))
            {
                connectTimeout.CancelAfter(ConnectTimeout);
                try
                {
                    await Parallel.ForEachAsync(
                        devices,
                        new ParallelOptions { MaxDegreeOfParallelism = options.ConnectParallelism, CancellationToken = connectTimeout.Token },
                        async (device, ct) => await device.ConnectAsync(ct).ConfigureAwait(false)).ConfigureAwait(false);
                }
                catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
                {
                    throw new LoadException($"the devices did not all connect within {ConnectTimeout.TotalSeconds:0} s.");
                }
            }

            var connectSeconds = Stopwatch.GetElapsedTime(connectStarted).TotalSeconds;
            Console.Error.WriteLine($"{options.Label}: {devices.Length} devices connected in {connectSeconds:0.000} s; warm-up {options.Warmup.TotalSeconds:0} s, then {options.Duration.TotalSeconds:0} s measured");

            using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            var sendStart = Stopwatch.GetTimestamp();
            var windowStart = sendStart + (long)(options.Warmup.TotalSeconds * Stopwatch.Frequency);
            var windowEnd = windowStart + (long)(options.Duration.TotalSeconds * Stopwatch.Frequency);
            var clock = new RunClock(sendStart, windowStart, windowEnd, stop.Token);
            var running = devices.Select(d => Task.Run(() => d.RunAsync(clock), CancellationToken.None)).ToArray();

            var cpu = new CpuSampler(options.BrokerPid);
            await DelayUntil(windowStart, cancellationToken).ConfigureAwait(false);
            cpu.Start();
            await DelayUntil(windowEnd, cancellationToken).ConfigureAwait(false);
            var (generatorCpu, brokerCpu, machineCpu) = cpu.Stop();
            await stop.CancelAsync().ConfigureAwait(false);

            try
            {
                await Task.WhenAll(running).WaitAsync(StopTimeout, cancellationToken).ConfigureAwait(false);
            }
            catch (TimeoutException)
            {
                throw new LoadException($"the devices could not stop sending within {StopTimeout.TotalSeconds:0} s (the broker stopped reading).");
            }

            using (var drainTimeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken))
            {
                drainTimeout.CancelAfter(StopTimeout);
                try
                {
                    await Task.WhenAll(devices.Select(d => d.DrainAsync(drainTimeout.Token))).ConfigureAwait(false);
                }
                catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
                {
                    throw new LoadException($"the broker did not answer the last messages within {StopTimeout.TotalSeconds:0} s.");
                }
            }

            var drained = Stopwatch.GetTimestamp();
            var latency = new LatencyHistogram();
            long published = 0;
            long acknowledged = 0;
            foreach (var device in devices)
            {
                latency.Add(device.Latency);
                published += device.Published;
                acknowledged += device.Acknowledged;
            }

            var failures = devices.Where(d => d.Failure is not null).ToArray();
            return new RunResult
            {
                Options = options,
                ConnectedDevices = devices.Length,
                FailedDevices = failures.Length,
                FirstFailure = failures.FirstOrDefault()?.Failure?.Message,
                ConnectSeconds = connectSeconds,

                // QoS 1: acks that came back in the window. QoS 0: what was sent in it, until the broker had read it all.
                Messages = options.Qos == 1 ? acknowledged : published,
                MeasuredSeconds = options.Qos == 1
                    ? options.Duration.TotalSeconds
                    : (drained - windowStart) / (double)Stopwatch.Frequency,
                Latency = latency,
                GeneratorCpuPercent = generatorCpu,
                BrokerCpuPercent = brokerCpu,
                MachineCpuPercent = machineCpu,
            };
        }
        finally
        {
            try
            {
                await Task.WhenAll(devices.Select(d => d.DisposeAsync().AsTask())).WaitAsync(StopTimeout, CancellationToken.None).ConfigureAwait(false);
            }
            catch (TimeoutException)
            {
                // Never mask the run's own outcome with a slow goodbye; the process exit closes the sockets.
                Console.Error.WriteLine($"warning: the devices did not disconnect within {StopTimeout.TotalSeconds:0} s.");
            }
        }
    }

    private static async Task DelayUntil(long stamp, CancellationToken cancellationToken)
    {
        var wait = Stopwatch.GetElapsedTime(Stopwatch.GetTimestamp(), stamp);
        if (wait > TimeSpan.Zero)
        {
            await Task.Delay(wait, cancellationToken).ConfigureAwait(false);
        }
    }
}
