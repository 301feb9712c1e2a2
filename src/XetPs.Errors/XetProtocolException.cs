using System;

namespace XetPs;

/// <summary>
/// The server's metadata is hostile or inconsistent (bad hash, impossible range, lying length, missing fetch entry,
/// oversized or malformed JSON, a body that does not match what was asked). Not transient: retrying would get the
/// same answer. The message names what was wrong; never a token or a presigned URL's query.
/// </summary>
public sealed class XetProtocolException : Exception
{
    public XetProtocolException(string message) : base(message) { }

    public XetProtocolException(string message, Exception? innerException) : base(message, innerException) { }
}
