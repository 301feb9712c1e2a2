using System;
using XetPs.Format;

namespace XetPs.Cas;

/// <summary>
/// A presigned xorb URL answered 403: it expired (or was never valid). Not retried by the HTTP layer; the pipeline
/// asks for fresh URLs for the segment (single-flight) and fetches again. The message names the xorb, never the URL's
/// signature.
/// </summary>
public sealed class XetUrlExpiredException : Exception
{
    public XetUrlExpiredException(XetHash xorb, string message, Exception? innerException = null)
        : base(message, innerException)
    {
        Xorb = xorb;
    }

    /// <summary>The xorb whose URL was refused.</summary>
    public XetHash Xorb { get; }
}
