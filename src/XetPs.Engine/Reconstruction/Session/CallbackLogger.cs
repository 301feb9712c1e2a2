using System;
using Microsoft.Extensions.Logging;

namespace XetPs.Reconstruction;

/// <summary>
/// An <see cref="ILogger"/> that hands each formatted message to a callback, so the PowerShell module can route
/// engine logs to its Verbose/Debug/Warning streams without referencing Logging.Abstractions. Invariant: the
/// callback never throws into the engine (a failing callback is swallowed after the first failure is kept aside),
/// because a log line must never end a download. Messages never carry tokens: the engine never formats them in.
/// </summary>
public sealed class CallbackLogger : ILogger
{
    private readonly Action<XetLogLevel, string> _callback;
    private readonly XetLogLevel _minimum;

    public CallbackLogger(Action<XetLogLevel, string> callback, XetLogLevel minimum = XetLogLevel.Debug)
    {
        _callback = callback ?? throw new ArgumentNullException(nameof(callback));
        _minimum = minimum;
    }

    /// <summary>The first exception the callback threw, if any (kept for diagnosis; later ones are dropped).</summary>
    public Exception? CallbackFailure { get; private set; }

    public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

    public bool IsEnabled(LogLevel logLevel) => logLevel != LogLevel.None && (int)logLevel >= (int)_minimum;

    public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception,
        Func<TState, Exception?, string> formatter)
    {
        if (!IsEnabled(logLevel)) return;
        var message = formatter(state, exception);
        if (exception is not null) message += " (" + exception.GetType().Name + ": " + exception.Message + ")";
        try
        {
            _callback((XetLogLevel)(int)logLevel, message);
        }
        catch (Exception ex) when (CallbackFailure is null)
        {
            // A logging sink that fails (e.g. a closed PowerShell pipeline) must not fail the download it reports on.
            CallbackFailure = ex;
        }
        catch (Exception)
        {
            // Already recorded the first failure; the rest are the same broken sink.
        }
    }
}
