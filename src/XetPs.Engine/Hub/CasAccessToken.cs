using System;

namespace XetPs.Hub;

/// <summary>
/// A CAS read token as the Hub's xet-read-token route issues it (§1.1): the bearer token, its expiry and the CAS
/// base URL it is valid for. Invariant: <see cref="ToString"/> never shows <see cref="AccessToken"/>, so the record can
/// be logged or put in a message without leaking it.
/// </summary>
public sealed record CasAccessToken(string AccessToken, Uri CasUrl, DateTimeOffset Expires)
{
    public override string ToString() => $"CAS token for {CasUrl} (expires {Expires:u})";
}
