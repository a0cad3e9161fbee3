using Microsoft.Extensions.Logging;
using Xunit.Abstractions;

namespace Broker.Host.Tests.Support;

/// <summary>Writes log lines to a test's output, so a failing test shows what the broker did.</summary>
public sealed class XunitLoggerProvider : ILoggerProvider
{
    private readonly ITestOutputHelper _output;

    /// <summary>Logs to <paramref name="output"/>.</summary>
    public XunitLoggerProvider(ITestOutputHelper output) => _output = output;

    /// <inheritdoc />
    public ILogger CreateLogger(string categoryName) => new Logger(_output, categoryName);

    /// <inheritdoc />
    public void Dispose()
    {
    }

    private sealed class Logger(ITestOutputHelper output, string category) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state)
            where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => logLevel != LogLevel.None;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            try
            {
                output.WriteLine($"{DateTime.UtcNow:HH:mm:ss.fff} {logLevel} {category}: {formatter(state, exception)}{(exception is null ? "" : Environment.NewLine + exception)}");
            }
            catch (InvalidOperationException)
            {
                // The test has finished; xunit refuses output after that, and a late line is not worth a failure.
            }
        }
    }
}
