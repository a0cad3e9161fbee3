using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;

namespace Broker.IntegrationTests.Telemetry;

/// <summary>
/// The real <c>broker</c> executable as a child process (<c>dotnet broker.dll serve</c>) on loopback ports, ready
/// once its log says that the MQTT and management listeners are open.
/// </summary>
internal sealed class BrokerProcess : IAsyncDisposable
{
    private readonly Process _process;
    private readonly ConcurrentQueue<string> _log = new();
    private readonly TaskCompletionSource _mqttListening = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly TaskCompletionSource _managementListening = new(TaskCreationOptions.RunContinuationsAsynchronously);

    private BrokerProcess(Process process, int mqttPort, int managementPort, int httpsPort)
    {
        _process = process;
        MqttPort = mqttPort;
        ManagementPort = managementPort;
        HttpsPort = httpsPort;
    }

    public int MqttPort { get; }

    public int ManagementPort { get; }

    /// <summary>The HTTPS port (IoT Hub's service REST API), with the CA in the data directory's <c>tls/ca.crt</c>.</summary>
    public int HttpsPort { get; }

    /// <summary>The last lines the broker wrote, for failure messages.</summary>
    public string RecentLog => string.Join(Environment.NewLine, _log);

    /// <summary>Starts a broker on <paramref name="dataDirectory"/> and waits until both listeners are open.</summary>
    public static async Task<BrokerProcess> StartAsync(string dataDirectory, TimeSpan bound)
    {
        int mqttPort = FreePort();
        int managementPort = FreePort();
        int httpsPort = FreePort();
        var start = new ProcessStartInfo("dotnet")
        {
            // The test project references Broker.Host, so the broker sits next to the test assembly.
            ArgumentList =
            {
                Path.Combine(AppContext.BaseDirectory, "broker.dll"), "serve",
                "--data", dataDirectory, "--bind", "127.0.0.1",
                "--mqtt-port", mqttPort.ToString(CultureInfo.InvariantCulture), "--mqtts-port", "0",
                "--amqp-port", "0", "--amqps-port", "0", // no well-known port another run may hold
                "--https-port", httpsPort.ToString(CultureInfo.InvariantCulture),
                "--management-port", managementPort.ToString(CultureInfo.InvariantCulture),
            },
            // No appsettings.json of the machine's current directory.
            WorkingDirectory = dataDirectory,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var name in Environment.GetEnvironmentVariables().Keys.Cast<string>().Where(n => n.StartsWith("BROKER_", StringComparison.OrdinalIgnoreCase)).ToList())
        {
            start.Environment.Remove(name);
        }

        var process = new Process { StartInfo = start, EnableRaisingEvents = true };
        var broker = new BrokerProcess(process, mqttPort, managementPort, httpsPort);
        process.OutputDataReceived += (_, line) => broker.OnLine(line.Data);
        process.ErrorDataReceived += (_, line) => broker.OnLine(line.Data);
        process.Exited += (_, _) =>
        {
            var failure = new InvalidOperationException("the broker exited before it was ready");
            broker._mqttListening.TrySetException(failure);
            broker._managementListening.TrySetException(failure);
        };
        Assert.True(process.Start(), "dotnet did not start");
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        try
        {
            await Task.WhenAll(broker._mqttListening.Task, broker._managementListening.Task).WaitAsync(bound);
        }
        catch (Exception exception)
        {
            var log = broker.RecentLog;
            await broker.DisposeAsync();
            throw new InvalidOperationException($"The broker did not become ready: {exception.Message}{Environment.NewLine}{log}", exception);
        }

        return broker;
    }

    /// <summary>SIGKILL: no shutdown code runs, as in a power cut of the process.</summary>
    public async Task KillAsync(TimeSpan bound)
    {
        _process.Kill(entireProcessTree: false);
        await _process.WaitForExitAsync().WaitAsync(bound);
    }

    public async ValueTask DisposeAsync()
    {
        try
        {
            if (!_process.HasExited)
            {
                _process.Kill();
                await _process.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(30));
            }
        }
        finally
        {
            _process.Dispose();
        }
    }

    private void OnLine(string? line)
    {
        if (line is null)
        {
            return;
        }

        _log.Enqueue(line);
        while (_log.Count > 100 && _log.TryDequeue(out _))
        {
        }

        if (line.Contains("Mqtt listening on", StringComparison.Ordinal))
        {
            _mqttListening.TrySetResult();
        }
        else if (line.Contains("Management listening on", StringComparison.Ordinal))
        {
            _managementListening.TrySetResult();
        }
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
