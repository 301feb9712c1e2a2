using System;
using System.Collections.Generic;
using XetPs.Format;

namespace XetPs.Cas;

/// <summary>
/// One presigned URL of a xorb and the byte ranges to ask it for, in one request (§2.2, v2 shape). A v1 answer is
/// normalized to one fetch per <c>fetch_info</c> entry, each with a single range. The URL is presigned: it is fetched
/// without any Authorization header.
/// </summary>
public sealed record XorbFetch(XetHash Xorb, Uri Url, IReadOnlyList<XorbRangeDescriptor> Ranges)
{
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
