using System;
using System.IO;

namespace XetPs;

/// <summary>
/// No byte arrived within the read timeout (the engine's XetHttpOptions.ReadTimeout), or no connection within the
/// connect timeout: the server went silent. Transient, so the attempt is retried; an <see cref="IOException"/> so that a caller sees an I/O
/// failure, never a <see cref="System.Threading.Tasks.TaskCanceledException"/> that looks like its own cancellation.
/// </summary>
public sealed class XetReadTimeoutException : IOException
{
    public XetReadTimeoutException(string message, Exception? innerException = null) : base(message, innerException) { }
}
