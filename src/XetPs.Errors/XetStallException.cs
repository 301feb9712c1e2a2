using System;

namespace XetPs;

/// <summary>
/// The stall watchdog fired: work was pending but no byte was received or written for the configured time. The
/// message says what was waiting (buffer bytes held, CAS permits held, terms pending, registry entries).
/// </summary>
public sealed class XetStallException : TimeoutException
{
    public XetStallException(string path, TimeSpan stallTimeout, string state)
        : base($"The download of '{path}' made no progress for {stallTimeout.TotalSeconds:0.#} s while work was pending: {state}.")
    {
        Path = path;
        State = state;
    }

    public string Path { get; }

    /// <summary>What was waiting when the watchdog fired.</summary>
    public string State { get; }
}
