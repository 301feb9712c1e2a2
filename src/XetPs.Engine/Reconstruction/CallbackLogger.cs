using System;
using Microsoft.Extensions.Logging;

namespace XetPs.Reconstruction;

/// <summary>The engine's log levels as a host sees them through <see cref="CallbackLogger"/>.</summary>
public enum XetLogLevel
{
    Trace,
    Debug,
    Information,
    Warning,
    Error,
}

/// <summary>
/// An <see cref="ILogger"/> that hands each enabled message to a plain callback. It lets a host that keeps
/// Microsoft.Extensions.Logging.Abstractions private to the engine's load context (the PowerShell module on
/// PowerShell 7) receive the engine's logs without naming a single Logging.Abstractions type itself.
/// Invariant: the callback sees formatted text only (message, then the exception's message), never the state
/// object, so nothing the engine did not choose to print (such as a token) can reach it.
/// </summary>
public sealed class CallbackLogger : ILogger
{
    private readonly Action<XetLogLevel, string> _sink;
    private readonly XetLogLevel _minimum;

    public CallbackLogger(Action<XetLogLevel, string> sink, XetLogLevel minimum = XetLogLevel.Trace)
    {
        _sink = sink ?? throw new ArgumentNullException(nameof(sink));
        _minimum = minimum;
    }

    public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

    public bool IsEnabled(LogLevel logLevel) => logLevel != LogLevel.None && Map(logLevel) >= _minimum;

    public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception,
                            Func<TState, Exception?, string> formatter)
    {
        if (!IsEnabled(logLevel)) return;
        var message = formatter(state, exception);
        if (exception is not null) message = message + ": " + exception.Message;
        _sink(Map(logLevel), message);
    }

    private static XetLogLevel Map(LogLevel level) => level switch
    {
        LogLevel.Trace => XetLogLevel.Trace,
        LogLevel.Debug => XetLogLevel.Debug,
        LogLevel.Information => XetLogLevel.Information,
        LogLevel.Warning => XetLogLevel.Warning,
        _ => XetLogLevel.Error,
    };
}
