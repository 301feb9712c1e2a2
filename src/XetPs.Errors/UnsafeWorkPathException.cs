using System;

namespace XetPs;

/// <summary>
/// A path in XetPs's working folder (<c>&lt;destination root&gt;/.cache/xetps</c>, see the engine's WorkFolder) that
/// XetPs would have had to write through: a symbolic link, a junction, a file with other names (hard links), a
/// special file, or a folder on the way that is a link. Raised before a byte is written there; not an
/// <see cref="System.IO.IOException"/>, so no "best effort" handler of file errors passes over it. The module reports
/// it as XetUnsafePath.
/// </summary>
public sealed class UnsafeWorkPathException : Exception
{
    public UnsafeWorkPathException(string path, string reason)
        : base($"'{path}' is {reason}. XetPs never writes through a link in its working folder (.cache/xetps under the destination): " +
               "remove it and run again.")
    {
        Path = path;
    }

    /// <summary>The path refused.</summary>
    public string Path { get; }
}
