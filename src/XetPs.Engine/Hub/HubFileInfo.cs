using System;
using System.Text;

namespace XetPs.Hub;

/// <summary>
/// What a resolve call tells about one file (§1.3): its entry (size, hashes, resolved commit) and where its bytes
/// come from. Exactly one way to download holds: Xet (<see cref="RepoEntry.IsXet"/>, token route in
/// <see cref="XetAuthUrl"/>) or plain HTTP from <see cref="DownloadUrl"/> (the resolve URL for git files, the LFS
/// location otherwise).
/// </summary>
/// <param name="Entry">The file, with Revision = the commit the Hub resolved.</param>
/// <param name="XetAuthUrl">The xet-read-token route (Link rel="xet-auth"), on the Hub endpoint; null for non-Xet files.</param>
/// <param name="DownloadUrl">Where a non-Xet file's bytes are (may be another host: no Hub token goes there).</param>
public sealed record HubFileInfo(RepoEntry Entry, Uri? XetAuthUrl, Uri? DownloadUrl)
{
    /// <summary>The URLs without their queries: an LFS download location is presigned, its signature in the query.</summary>
    private bool PrintMembers(StringBuilder builder)
    {
        builder.Append("Entry = ").Append(Entry)
            .Append(", XetAuthUrl = ").Append(XetAuthUrl is null ? "" : XetHttpTransport.Redacted(XetAuthUrl))
            .Append(", DownloadUrl = ").Append(DownloadUrl is null ? "" : XetHttpTransport.Redacted(DownloadUrl));
        return true;
    }
}
