using System.Threading.Tasks;
using XetPs.Cas;

namespace XetPs.Reconstruction;

/// <summary>
/// One term of one segment, placed in the file: where its first chunk starts, and which registry block holds its
/// chunks. Which of its chunks are written is the writer's business (it writes the chunks the file lacks, whole; see
/// <see cref="SequentialWriter"/>), not the segment's. Owned by one file's pipeline: the scheduler
/// sets <see cref="Load"/>/<see cref="Claimed"/>, the writer sets <see cref="Done"/>; the file releases every term
/// not done when it ends, so the registry's counts always balance.
/// </summary>
internal sealed class PlannedTerm
{
    public PlannedTerm(ReconstructionSegment segment, ReconstructionTerm term, XorbBlock block, int rangeIndex, long sequence,
        long fileOffset)
        : this(segment, term, fileOffset)
    {
        Block = block;
        RangeIndex = rangeIndex;
        Sequence = sequence;
    }

    /// <summary>A term whose chunks are read from the earlier copy of the file: no block, no fetch.</summary>
    public PlannedTerm(ReconstructionSegment segment, ReconstructionTerm term, long fileOffset, EarlierChunks earlier)
        : this(segment, term, fileOffset)
    {
        Earlier = earlier;
    }

    private PlannedTerm(ReconstructionSegment segment, ReconstructionTerm term, long fileOffset)
    {
        Segment = segment;
        Term = term;
        FileOffset = fileOffset;
    }

    /// <summary>The segment whose reconstruction placed this term.</summary>
    public ReconstructionSegment Segment { get; }

    public ReconstructionTerm Term { get; }

    /// <summary>The registry block holding the term's chunks; null for a term read from the earlier copy.</summary>
    public XorbBlock? Block { get; }

    /// <summary>Where the term's chunks sit in the earlier copy of the file, when they are all there (see
    /// <see cref="EarlierCopy"/>); null for a term fetched through the registry.</summary>
    public EarlierChunks? Earlier { get; }

    /// <summary>The registry's plan sequence number of this use of the block.</summary>
    public long Sequence { get; }

    /// <summary>Index of the block's range that holds the term's chunks.</summary>
    public int RangeIndex { get; }

    /// <summary>File offset of the term's first byte (before the segment start for a segment's first term).</summary>
    public long FileOffset { get; }

    /// <summary>The block's load; cleared once the term is written, so a finished term keeps no xorb bytes alive.</summary>
    public Task<DecodedXorbRange[]>? Load { get; set; }

    public bool Claimed { get; set; }

    public bool Done { get; set; }
}
