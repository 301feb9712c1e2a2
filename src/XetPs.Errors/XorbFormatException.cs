using System;
using System.IO;

namespace XetPs;

/// <summary>
/// Xorb bytes that do not follow §3: a truncated chunk header or data, sizes past the protocol limits, an unknown
/// scheme or version, a corrupt LZ4 frame, a decoded length that disagrees with its header, a malformed footer.
/// The message names what was wrong and where; the bytes came from the network or disk, never from our code.
/// Derives from <see cref="IOException"/> because <see cref="InvalidDataException"/> (the contract's first choice) is
/// sealed; catch it by its own type to tell corrupt data from a failed read.
/// </summary>
public class XorbFormatException : IOException
{
    public XorbFormatException(string message) : base(message) { }

    public XorbFormatException(string message, Exception innerException) : base(message, innerException) { }
}
