using Microsoft.Extensions.Logging;

namespace Broker.Storage.Faster.Tests;

/// <summary>Captures log messages so tests can assert what recovery reported.</summary>
internal sealed class ListLoggerFactory : ILoggerFactory, ILogger
{
    private readonly Lock _lock = new();
    private readonly List<(LogLevel Level, string Message)> _messages = [];

    public IReadOnlyList<(LogLevel Level, string Message)> Messages
    {
        get
        {
            lock (_lock)
            {
                return [.. _messages];
            }
        }
    }

    public ILogger CreateLogger(string categoryName) => this;

    public void AddProvider(ILoggerProvider provider)
    {
    }

    public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

    public bool IsEnabled(LogLevel logLevel) => logLevel >= LogLevel.Information;

    public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
    {
        lock (_lock)
        {
            _messages.Add((logLevel, formatter(state, exception) + (exception is null ? "" : " " + exception.Message)));
        }
    }

    public void Dispose()
    {
    }
}
