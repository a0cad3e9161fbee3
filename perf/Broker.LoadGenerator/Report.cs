using System.Globalization;
using System.Text;
using System.Text.Json;

namespace Broker.LoadGenerator;

/// <summary>The human table on stdout and one <c>RESULT {json}</c> line for scripts.</summary>
internal static class Report
{
    public static void Write(TextWriter output, RunResult result)
    {
        var o = result.Options;
        var qos1 = o.Qos == 1;
        var rows = new List<(string, string)>
        {
            ("target", $"{o.Label} {o.Protocol.ToString().ToUpperInvariant()} {o.Host}:{o.Port}{(o.Tls ? " TLS" : "")} ({o.Client.ToString().ToLowerInvariant()} client{(o.NoAuth ? (o.Protocol == LoadProtocol.Amqp ? ", SASL ANONYMOUS" : ", no auth") : o.Protocol == LoadProtocol.Amqp ? (o.AmqpAuth == AmqpAuth.Cbs ? ", CBS + SAS" : ", SASL PLAIN + SAS") : ", SAS")})"),
            ("scenario", $"{o.Devices} devices x {o.PayloadBytes} B, {(o.Protocol == LoadProtocol.Amqp ? (qos1 ? "unsettled" : "pre-settled") : $"QoS {o.Qos}")}, {(o.Rate > 0 ? $"{o.Rate:0} msg/s target" : "flat out")}{(qos1 ? $", window {o.Window}" : "")}, {o.Duration.TotalSeconds:0} s after {o.Warmup.TotalSeconds:0} s warm-up"),
            ("connect", $"{result.ConnectSeconds * 1000:0} ms for {result.ConnectedDevices} devices = {result.ConnectsPerSecond:0} connects/s"),
            ("messages", $"{result.Messages:N0} in {result.MeasuredSeconds:0.00} s"),
            ("throughput", $"{result.MessagesPerSecond:N0} msg/s, {result.MegabytesPerSecond:0.0} MB/s payload"),
        };
        if (qos1)
        {
            var l = result.Latency;
            rows.Add(("latency", $"p50 {Ms(l.ValueAt(50))} ms, p99 {Ms(l.ValueAt(99))} ms, p99.9 {Ms(l.ValueAt(99.9))} ms, max {Ms(l.Max)} ms ({l.Count:N0} samples)"));
        }

        rows.Add(("cpu", $"generator {result.GeneratorCpuPercent:0}%, broker {(result.BrokerCpuPercent is { } b ? $"{b:0}%" : "n/a")}, machine {result.MachineCpuPercent:0}% of {Environment.ProcessorCount * 100}%"));
        if (result.FailedDevices > 0)
        {
            rows.Add(("failures", $"{result.FailedDevices} device(s) stopped early: {result.FirstFailure}"));
        }

        var width = rows.Max(r => r.Item1.Length);
        foreach (var (name, value) in rows)
        {
            output.WriteLine($"  {name.PadRight(width)}  {value}");
        }

        output.WriteLine("RESULT " + Json(result));
    }

    private static string Ms(long nanoseconds) => (nanoseconds / 1e6).ToString("0.000", CultureInfo.InvariantCulture);

    private static string Json(RunResult result)
    {
        var o = result.Options;
        using var buffer = new MemoryStream();
        using (var json = new Utf8JsonWriter(buffer))
        {
            json.WriteStartObject();
            json.WriteString("label", o.Label);
            json.WriteString("protocol", o.Protocol.ToString().ToLowerInvariant());
            json.WriteString("client", o.Client.ToString().ToLowerInvariant());
            json.WriteString("host", o.Host);
            json.WriteNumber("port", o.Port);
            json.WriteBoolean("tls", o.Tls);
            json.WriteNumber("devices", o.Devices);
            json.WriteNumber("qos", o.Qos);
            json.WriteNumber("payloadBytes", o.PayloadBytes);
            json.WriteNumber("window", o.Window);
            json.WriteNumber("targetRate", o.Rate);
            json.WriteNumber("durationSeconds", o.Duration.TotalSeconds);
            json.WriteNumber("warmupSeconds", o.Warmup.TotalSeconds);
            json.WriteNumber("connectSeconds", Math.Round(result.ConnectSeconds, 4));
            json.WriteNumber("connectsPerSecond", Math.Round(result.ConnectsPerSecond, 1));
            json.WriteNumber("messages", result.Messages);
            json.WriteNumber("measuredSeconds", Math.Round(result.MeasuredSeconds, 3));
            json.WriteNumber("msgsPerSecond", Math.Round(result.MessagesPerSecond, 1));
            json.WriteNumber("mbPerSecond", Math.Round(result.MegabytesPerSecond, 2));
            if (o.Qos == 1)
            {
                var l = result.Latency;
                json.WriteNumber("latencySamples", l.Count);
                json.WriteNumber("p50Ms", l.ValueAt(50) / 1e6);
                json.WriteNumber("p99Ms", l.ValueAt(99) / 1e6);
                json.WriteNumber("p999Ms", l.ValueAt(99.9) / 1e6);
                json.WriteNumber("maxMs", l.Max / 1e6);
            }

            json.WriteNumber("generatorCpuPercent", Math.Round(result.GeneratorCpuPercent, 1));
            if (result.BrokerCpuPercent is { } broker)
            {
                json.WriteNumber("brokerCpuPercent", Math.Round(broker, 1));
            }

            json.WriteNumber("machineCpuPercent", Math.Round(result.MachineCpuPercent, 1));
            json.WriteNumber("failedDevices", result.FailedDevices);
            json.WriteEndObject();
        }

        return Encoding.UTF8.GetString(buffer.ToArray());
    }
}
