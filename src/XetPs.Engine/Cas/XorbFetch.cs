using System;
using System.Collections.Generic;
using System.Text;
using XetPs.Format;
using XetPs.Hub;

namespace XetPs.Cas;

/// <summary>
/// One presigned URL of a xorb and the byte ranges to ask it for, in one request (§2.2, v2 shape). A v1 answer is
/// normalized to one fetch per <c>fetch_info</c> entry, each with a single range. The URL is presigned: it is fetched
/// without any Authorization header. Invariant: <see cref="object.ToString"/> shows the URL without its query, so the
/// record can go into a log or a message without the URL's signature.
/// </summary>
public sealed record XorbFetch(XetHash Xorb, Uri Url, IReadOnlyList<XorbRangeDescriptor> Ranges)
{
    private bool PrintMembers(StringBuilder builder)
    {
        builder.Append("Xorb = ").Append(Xorb).Append(", Url = ").Append(XetHttpTransport.Redacted(Url))
            .Append(", Ranges = ").Append(string.Join(", ", Ranges));
        return true;
    }

    /// <summary>The raw length of all ranges, back to back: the destination size of a fetch.</summary>
    public long TotalLength
    {
        get
        {
            long total = 0;
            foreach (var range in Ranges) total += range.Length;
            return total;
        }
    }
}
