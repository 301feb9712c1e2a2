using System;

namespace XetPs;

/// <summary>
/// A presigned xorb URL answered 403: it expired (or was never valid). Not retried by the HTTP layer; the pipeline
/// asks for fresh URLs for the segment (single-flight) and fetches again, so a caller sees this only when fresh URLs
/// were refused too. The message names the xorb, never the URL's signature.
/// </summary>
public sealed class XetUrlExpiredException : Exception
{
    public XetUrlExpiredException(string xorb, string message, Exception? innerException = null)
        : base(message, innerException)
    {
        Xorb = xorb;
    }

    /// <summary>The hash of the xorb whose URL was refused (64 hex, the protocol's string form).</summary>
    public string Xorb { get; }
}
