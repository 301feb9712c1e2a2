using System;
using System.Collections.Concurrent;
using System.Collections.Generic;
using Microsoft.Extensions.Logging;

namespace XetPs.Bench.Integrity;

/// <summary>
/// The engine's logger during one integrity download: counts, by message template, every warning and error and the
/// debug lines that tell of a refetch (a xorb that did not decode is fetched again at debug level). Templates, not
/// formatted messages, so that lines differing only by path, attempt or URL count as one kind. Thread-safe: the engine
/// logs from its workers.
/// </summary>
internal sealed class RecoveryLog : ILogger
{
    private readonly ConcurrentDictionary<string, int> _counts = new(StringComparer.Ordinal);

    /// <summary>One formatted example of each template, for the report of the run's failures.</summary>
    public ConcurrentDictionary<string, string> Examples { get; } = new(StringComparer.Ordinal);

    public IReadOnlyDictionary<string, int> Counts => _counts;

    public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

    public bool IsEnabled(LogLevel logLevel) => logLevel is >= LogLevel.Debug and < LogLevel.None;

    public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
    {
        if (!IsEnabled(logLevel)) return;
        var template = TemplateOf(state) ?? formatter(state, exception);
        if (logLevel < LogLevel.Warning && !IntegrityReport.IsRefetch(template) && !IntegrityReport.IsRedownload(template)) return;
        _counts.AddOrUpdate(template, 1, (_, n) => n + 1);
        Examples.TryAdd(template, formatter(state, exception));
    }

    private static string? TemplateOf<TState>(TState state)
    {
        if (state is IReadOnlyList<KeyValuePair<string, object?>> values)
            foreach (var pair in values)
                if (pair.Key == "{OriginalFormat}") return pair.Value as string;
        return null;
    }
}
