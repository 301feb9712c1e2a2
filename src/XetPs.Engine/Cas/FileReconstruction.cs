using System.Collections.Generic;
using System.Text;
using XetPs.Format;

namespace XetPs.Cas;

/// <summary>
/// The answer of the reconstruction API for one byte range of a file (§2.2), in the v2 shape (v1 answers are
/// normalized to it). Invariants (checked by the parser): every term's chunk range is covered by one range of one
/// fetch of its xorb in <see cref="Xorbs"/>; <see cref="OffsetIntoFirstRange"/> lies inside the first term.
/// </summary>
/// <param name="OffsetIntoFirstRange">Bytes of the first term's decompressed data to skip to reach the requested start.</param>
/// <param name="Terms">The terms in file order.</param>
/// <param name="Xorbs">For each xorb the terms use, the presigned URLs and the byte ranges to fetch.</param>
public sealed record FileReconstruction(
    long OffsetIntoFirstRange,
    IReadOnlyList<ReconstructionTerm> Terms,
    IReadOnlyDictionary<XetHash, IReadOnlyList<XorbFetch>> Xorbs)
{
    /// <summary>Counts only: the fetches' presigned URLs never reach a log or a message through this record.</summary>
    private bool PrintMembers(StringBuilder builder)
    {
        builder.Append("OffsetIntoFirstRange = ").Append(OffsetIntoFirstRange)
            .Append(", Terms = ").Append(Terms.Count).Append(", Xorbs = ").Append(Xorbs.Count);
        return true;
    }
}
