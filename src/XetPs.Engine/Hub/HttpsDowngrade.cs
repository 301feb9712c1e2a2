using System;
using XetPs.Cas;

namespace XetPs.Hub;

/// <summary>
/// Refuses a URL handed out over https that would be fetched over plain http: an https Hub whose xet-read-token names
/// an http CAS, a CAS reached over https that hands out http presigned xorb URLs, or a download redirected from https
/// to http. Such a URL would carry a CAS token or a signature in the clear, and let anyone on the path change the
/// bytes (the hashes catch that, but the download fails all the same, and a plain file with no known hash is not
/// caught at all). Loopback hosts are excepted: the emulator and local gateways speak http on 127.0.0.1 or localhost,
/// where nothing crosses a network.
/// </summary>
internal static class HttpsDowngrade
{
    /// <summary>Throws <see cref="XetProtocolException"/> when <paramref name="handedOut"/>, given by <paramref name="what"/>
    /// reached at <paramref name="trusted"/>, goes from https to http on a host other than loopback.</summary>
    public static void Refuse(Uri trusted, Uri handedOut, string what)
    {
        if (IsDowngrade(trusted, handedOut))
            throw new XetProtocolException(
                $"{what} handed out a plain http URL ({XetHttpTransport.Describe(handedOut)}) while it was reached over https: " +
                "XetPs sends no token and fetches no bytes unencrypted when the Hub is https.");
    }

    public static bool IsDowngrade(Uri trusted, Uri handedOut) =>
        trusted.Scheme == Uri.UriSchemeHttps && handedOut.Scheme == Uri.UriSchemeHttp && !handedOut.IsLoopback;
}
