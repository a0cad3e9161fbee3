using System.Diagnostics;

namespace Broker.Storage.Faster.Tests;

/// <summary>Runs the crash worker as a child process and collects the acknowledgements it prints.</summary>
internal sealed class CrashWorkerProcess : IDisposable
{
    private readonly Process _process;
    private readonly List<string> _lines = [];
    private readonly Lock _lock = new();
    private readonly TaskCompletionSource _reachedTarget = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly TaskCompletionSource _exited = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly int _killAfterAcks;
    private int _acks;

    public CrashWorkerProcess(string dataDirectory, int killAfterAcks)
    {
        _killAfterAcks = killAfterAcks;
        var start = new ProcessStartInfo("dotnet", [WorkerPath(), dataDirectory])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        _process = new Process { StartInfo = start, EnableRaisingEvents = true };
        _process.OutputDataReceived += (_, e) => OnLine(e.Data);
        _process.ErrorDataReceived += (_, e) =>
        {
            if (e.Data is not null)
            {
                lock (_lock)
                {
                    StandardError += e.Data + Environment.NewLine;
                }
            }
        };
        _process.Start();
        _process.BeginOutputReadLine();
        _process.BeginErrorReadLine();
    }

    public string StandardError { get; private set; } = "";

    public Task ReachedTarget => _reachedTarget.Task;

    private void OnLine(string? line)
    {
        if (line is null)
        {
            _exited.TrySetResult(); // end of stdout: every line the child wrote has been read
            _reachedTarget.TrySetResult();
            return;
        }

        lock (_lock)
        {
            _lines.Add(line);
        }

        if ((line.StartsWith('E') || line.StartsWith('S')) && Interlocked.Increment(ref _acks) >= _killAfterAcks)
        {
            _reachedTarget.TrySetResult();
        }
    }

    /// <summary>SIGKILL, then the acknowledgements that were printed before it.</summary>
    public async Task<IReadOnlyList<string>> KillAsync(CancellationToken cancellationToken)
    {
        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: false); // SIGKILL on Unix
        }

        await _process.WaitForExitAsync(cancellationToken);
        await _exited.Task.WaitAsync(cancellationToken);
        lock (_lock)
        {
            return [.. _lines];
        }
    }

    public bool HasExited => _process.HasExited;

    public void Dispose()
    {
        if (!_process.HasExited)
        {
            _process.Kill();
        }

        _process.Dispose();
    }

    private static string WorkerPath()
    {
        var testDirectory = AppContext.BaseDirectory;
        var path = testDirectory.Replace("Broker.Storage.Faster.Tests", "Broker.Storage.Faster.CrashWorker", StringComparison.Ordinal);
        return Path.Combine(path, "Broker.Storage.Faster.CrashWorker.dll");
    }
}
