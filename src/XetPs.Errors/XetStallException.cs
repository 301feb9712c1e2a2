using System;

namespace XetPs;

/// <summary>
/// The stall watchdog fired: work was pending but the session received and wrote no byte for the configured time.
/// The message says what was waiting (the file's state, the requests in flight with their attempts and last failure,
/// buffer bytes held, CAS permits held, registry entries); the inner exception is the newest failure of a request in
/// flight, when there was one.
/// </summary>
public sealed class XetStallException : TimeoutException
{
    public XetStallException(string path, TimeSpan stallTimeout, string state, Exception? innerException = null)
        : base(string.Format(System.Globalization.CultureInfo.InvariantCulture,
            "The download of '{0}' moved no byte for {1:0.###} s while work was pending: {2}.", path, stallTimeout.TotalSeconds, state), innerException)
    {
        Path = path;
        State = state;
    }

    public string Path { get; }

    /// <summary>What was waiting when the watchdog fired.</summary>
    public string State { get; }
}
