using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;

namespace Broker.Protocols.Amqp.Tests.Server;

/// <summary>Keeps every warning or error the server logs (an engine failure is logged, not thrown to the test).</summary>
internal sealed class WarningLog : ILoggerProvider
{
    public ConcurrentQueue<string> Entries { get; } = new();

    public ILogger CreateLogger(string categoryName) => new Logger(this);

    public void Dispose()
    {
    }

    private sealed class Logger(WarningLog owner) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state)
            where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => logLevel >= LogLevel.Warning;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            if (IsEnabled(logLevel))
            {
                owner.Entries.Enqueue($"{formatter(state, exception)} {exception}");
            }
        }
    }
}
