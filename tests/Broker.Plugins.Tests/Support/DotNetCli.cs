using System.Diagnostics;
using System.Text;

namespace Broker.Plugins.Tests.Support;

/// <summary>Runs the .NET SDK the tests run on, bounded by a timeout, and fails with its output.</summary>
internal static class DotNetCli
{
    public static async Task<string> RunAsync(string workingDirectory, TimeSpan timeout, params string[] arguments)
    {
        var (exitCode, output, elapsed) = await RunProcessAsync(DotNetPath(), workingDirectory, timeout, new Dictionary<string, string>(), arguments);
        return exitCode == 0
            ? output
            : throw new InvalidOperationException($"dotnet {string.Join(' ', arguments)} exited with {exitCode} after {elapsed}:\n{Tail(output)}");
    }

    /// <summary>Runs a program to its end (killed, and failing the test, at <paramref name="timeout"/>); its exit code and its output and errors interleaved.</summary>
    public static async Task<(int ExitCode, string Output, TimeSpan Elapsed)> RunProcessAsync(string fileName, string workingDirectory, TimeSpan timeout,
        IReadOnlyDictionary<string, string> environment, params string[] arguments)
    {
        var start = new ProcessStartInfo(fileName, arguments)
        {
            WorkingDirectory = workingDirectory,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };

        // `dotnet test` hands its MSBuild settings down; a nested build must find its own SDK and resolve its own props.
        foreach (string key in start.Environment.Keys.Where(key => key.StartsWith("MSBuild", StringComparison.OrdinalIgnoreCase)).ToList())
        {
            start.Environment.Remove(key);
        }

        // No build servers or reused nodes: nothing may outlive the command and hold its output open.
        start.Environment["MSBUILDDISABLENODEREUSE"] = "1";
        start.Environment["DOTNET_CLI_USE_MSBUILD_SERVER"] = "0";
        start.Environment["DOTNET_CLI_TELEMETRY_OPTOUT"] = "1";
        start.Environment["DOTNET_NOLOGO"] = "1";
        start.Environment["DOTNET_SKIP_FIRST_TIME_EXPERIENCE"] = "1";
        foreach (var (key, value) in environment)
        {
            start.Environment[key] = value;
        }

        var output = new StringBuilder();
        using var process = new Process { StartInfo = start };
        process.OutputDataReceived += (_, e) => Append(output, e.Data);
        process.ErrorDataReceived += (_, e) => Append(output, e.Data);
        var started = Stopwatch.StartNew();
        process.Start();
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();

        using var deadline = new CancellationTokenSource(timeout);
        try
        {
            await process.WaitForExitAsync(deadline.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            throw new InvalidOperationException($"{Path.GetFileName(fileName)} {string.Join(' ', arguments)} did not finish within {timeout}:\n{Tail(Snapshot(output))}");
        }

        lock (output)
        {
            return (process.ExitCode, output.ToString(), started.Elapsed);
        }
    }

    private static string DotNetPath()
    {
        string? host = Environment.GetEnvironmentVariable("DOTNET_HOST_PATH");
        if (host is not null && File.Exists(host))
        {
            return host;
        }

        string? current = Environment.ProcessPath;
        return current is not null && Path.GetFileNameWithoutExtension(current) == "dotnet" ? current : "dotnet";
    }

    private static void Append(StringBuilder output, string? line)
    {
        if (line is null)
        {
            return;
        }

        lock (output)
        {
            output.AppendLine(line);
        }
    }

    private static string Snapshot(StringBuilder output)
    {
        lock (output)
        {
            return output.ToString();
        }
    }

    private static string Tail(string output)
    {
        const int Keep = 8000;
        return output.Length <= Keep ? output : output[^Keep..];
    }
}
