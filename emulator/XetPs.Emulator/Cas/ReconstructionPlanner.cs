using System;
using System.Collections.Generic;
using System.Linq;
using XetPs.Format;
using XetPs.Emulator.Store;


namespace XetPs.Emulator.Cas;

/// <summary>A term of an answer: chunks [Start, End) of a xorb and their unpacked length.</summary>
internal readonly record struct PlannedTerm(XetHash Xorb, int Start, int End, int UnpackedLength);

/// <summary>A merged byte range of a xorb: chunks [ChunkStart, ChunkEnd) at serialized bytes [ByteStart, ByteEndInclusive].</summary>
internal readonly record struct PlannedRange(int ChunkStart, int ChunkEnd, long ByteStart, long ByteEndInclusive);

/// <summary>A reconstruction answer before it is written as v1 or v2 JSON.</summary>
internal sealed class ReconstructionPlan
{
    public long OffsetIntoFirstRange { get; init; }
    public List<PlannedTerm> Terms { get; } = new();
    /// <summary>Per xorb, in order of first use: merged ranges sorted by chunk start.</summary>
    public List<(XetHash Xorb, List<PlannedRange> Ranges)> Xorbs { get; } = new();
}

/// <summary>
/// Builds the answer to a reconstruction query, the reference algorithm of PROTOCOL.md §2.3: keep the terms that
/// overlap the requested range, trimmed to whole chunks; per xorb, merge chunk ranges that touch or overlap into
/// one byte range; <c>offset_into_first_range</c> = start minus the file offset of the first kept chunk.
/// Invariant: every kept term's chunk range lies inside one merged range of its xorb.
/// </summary>
internal static class ReconstructionPlanner
{
    /// <summary>The plan for bytes [start, endExclusive) of <paramref name="file"/>; the caller has clamped the end
    /// and answered 416 for a start past the end.</summary>
    public static ReconstructionPlan Plan(FileRecord file, XorbCatalog xorbs, long start, long endExclusive)
    {
        var terms = new List<PlannedTerm>();
        long offsetIntoFirst = 0;
        long pos = 0;
        foreach (var term in file.Terms)
        {
            long termEnd = pos + term.UnpackedLength;
            if (termEnd <= start) { pos = termEnd; continue; }
            if (pos >= endExclusive) break;
            var meta = xorbs.Get(term.Xorb);
            int s = term.Start, e = term.End;
            long chunkPos = pos;
            // Drop leading chunks that end at or before start.
            while (s < e && chunkPos + meta.UnpackedLength(s) <= start) { chunkPos += meta.UnpackedLength(s); s++; }
            long keptStart = chunkPos;
            // Drop trailing chunks that start at or after the end.
            long tail = termEnd;
            while (e > s && tail - meta.UnpackedLength(e - 1) >= endExclusive) { tail -= meta.UnpackedLength(e - 1); e--; }
            if (terms.Count == 0) offsetIntoFirst = start - keptStart;
            terms.Add(new PlannedTerm(term.Xorb, s, e, checked((int)(tail - keptStart))));
            pos = termEnd;
        }

        var plan = new ReconstructionPlan { OffsetIntoFirstRange = offsetIntoFirst };
        plan.Terms.AddRange(terms);
        var order = new List<XetHash>();
        var byXorb = new Dictionary<XetHash, List<(int S, int E)>>();
        foreach (var t in terms)
        {
            if (!byXorb.TryGetValue(t.Xorb, out var list)) { byXorb[t.Xorb] = list = new(); order.Add(t.Xorb); }
            list.Add((t.Start, t.End));
        }
        foreach (var hash in order)
        {
            var meta = xorbs.Get(hash);
            var list = byXorb[hash];
            list.Sort((a, b) => a.S != b.S ? a.S.CompareTo(b.S) : a.E.CompareTo(b.E));
            var merged = new List<PlannedRange>();
            int cs = list[0].S, ce = list[0].E;
            foreach (var (s, e) in list)
            {
                if (s <= ce) { ce = Math.Max(ce, e); continue; }
                merged.Add(Range(meta, cs, ce));
                cs = s; ce = e;
            }
            merged.Add(Range(meta, cs, ce));
            plan.Xorbs.Add((hash, merged));
        }
        return plan;
    }

    /// <summary>
    /// The hostile answer of <see cref="Faults.HostileMetadata.OversizedFetch"/>: the first term claims
    /// <paramref name="chunks"/> chunks from its start and the most bytes they could decode to, and the range of its
    /// xorb that holds it reaches as far in chunks; byte ranges (what the URL signs) stay real.
    /// </summary>
    public static ReconstructionPlan WithOversizedFetch(ReconstructionPlan plan, int chunks)
    {
        if (plan.Terms.Count == 0) return plan;
        var first = plan.Terms[0];
        var end = first.Start + chunks;
        var hostile = new ReconstructionPlan { OffsetIntoFirstRange = plan.OffsetIntoFirstRange };
        hostile.Terms.Add(first with { End = end, UnpackedLength = checked(chunks * XorbChunkHeader.MaxUncompressedLength) });
        hostile.Terms.AddRange(plan.Terms.Skip(1));
        foreach (var (xorb, ranges) in plan.Xorbs)
        {
            var widened = ranges.Select(r => xorb == first.Xorb && r.ChunkStart <= first.Start && first.End <= r.ChunkEnd
                ? r with { ChunkEnd = Math.Max(r.ChunkEnd, end) } : r).ToList();
            hostile.Xorbs.Add((xorb, widened));
        }
        return hostile;
    }

    private static PlannedRange Range(XorbMeta meta, int s, int e) => new(s, e, meta.ByteStart(s), meta.ByteEnd(e) - 1);
}
