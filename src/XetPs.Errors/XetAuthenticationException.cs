using System;

namespace XetPs;

/// <summary>
/// The Hub refused the request (401 or 403): no token, a bad token, or a token without access to the repository
/// (a gated or private repo). The message says which repository and what to do; it never contains the token.
/// </summary>
public sealed class XetAuthenticationException : Exception
{
    public XetAuthenticationException(string message, int statusCode, Exception? innerException = null)
        : base(message, innerException)
    {
        StatusCode = statusCode;
    }

    /// <summary>The HTTP status the Hub answered (401 or 403).</summary>
    public int StatusCode { get; }
}
