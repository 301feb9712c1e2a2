using System;
using System.Collections.Generic;
using System.Linq;
using System.Threading;
using System.Threading.Tasks;
using XetPs.Cas;
using XetPs.Format;

namespace XetPs.Tests.Reconstruction;

/// <summary>
/// A deterministic in-memory CAS for pipeline specifications that need no HTTP (schedules, stalls, accounting):
/// real xorb bytes (encoded with the format codec), reconstructions built by the reference algorithm (PROTOCOL.md
/// §2.3: trim to the range, merge ranges per xorb into one fetch), seeded delays, and switchable faults. HTTP
/// behaviour is specified against the emulator instead.
/// </summary>
internal sealed class InMemoryCas : ICasReader
{
    private readonly Dictionary<XetHash, Xorb> _xorbs = new();
    private readonly Dictionary<XetHash, List<(XetHash Xorb, ChunkRange Chunks)>> _files = new();
    private readonly object _gate = new();
    private Random _delays;
    private int _urlGeneration;
    private long _bytesServed;
    private int _fetches;
    private int _reconstructions;
    private int _inFlight;

    public InMemoryCas(int seed = 1) => _delays = new Random(seed);

    /// <summary>Upper bound of a random delay before each fetch answers (0: none).</summary>
    public int MaxFetchDelayMs { get; set; }

    public long BytesServed => Interlocked.Read(ref _bytesServed);

    public int Fetches => Volatile.Read(ref _fetches);

    public int Reconstructions => Volatile.Read(ref _reconstructions);

    public int FetchesInFlight => Volatile.Read(ref _inFlight);

    /// <summary>URLs of generations before this one answer 403 (XetUrlExpiredException).</summary>
    public int ExpireUrlsBefore { get; set; }

    /// <summary>When set, fetches throw this (after the delay).</summary>
    public Func<XorbFetch, Exception?>? FetchFault { get; set; }

    /// <summary>When true, answers keep whole terms (no trimming of chunks past the requested end).</summary>
    public bool KeepWholeTerms { get; set; }

    /// <summary>When set, the reconstruction answer is rewritten by this function.</summary>
    public Func<FileReconstruction, FileReconstruction>? ReconstructionRewrite { get; set; }

    /// <summary>When set, fetches wait for this task before answering.</summary>
    public Task? FetchGate { get; set; }

    /// <summary>When set, every fetch reports half its bytes as received, then waits for this task before the rest.</summary>
    public Task? HalfwayGate { get; set; }

    /// <summary>When true, fetches never answer (until cancelled).</summary>
    public bool Hang { get; set; }

    /// <summary>When set, a fetch cancelled while it waits ends only once this task completes (a connection slow to close).</summary>
    public Task? CancellationLag { get; set; }

    /// <summary>Flips one byte of the stored chunk data of xorb <paramref name="xorb"/>, chunk <paramref name="chunk"/>.</summary>
    public void CorruptChunk(XetHash xorb, int chunk)
    {
        var x = _xorbs[xorb];
        var start = chunk == 0 ? 0 : x.ChunkEnds[chunk - 1];
        var header = XorbChunkHeader.Read(x.Bytes.AsSpan(start));
        if (header.Scheme != CompressionScheme.None) throw new InvalidOperationException("Corrupt an uncompressed chunk for a decodable result.");
        x.Bytes[start + XorbChunkHeader.Size + header.CompressedLength / 2] ^= 0x5A;
    }

    public IReadOnlyCollection<XetHash> XorbHashes => _xorbs.Keys;

    /// <summary>Stores a xorb made of <paramref name="chunks"/>; returns its hash.</summary>
    public XetHash AddXorb(IReadOnlyList<byte[]> chunks, bool compress) =>
        AddXorb(chunks, compress ? CompressionScheme.Lz4 : CompressionScheme.None);

    /// <summary>Stores a xorb whose chunks are encoded with <paramref name="scheme"/> (stored as None where that
    /// does not shrink them, as a real writer does); returns its hash.</summary>
    public XetHash AddXorb(IReadOnlyList<byte[]> chunks, CompressionScheme scheme)
    {
        var bytes = new List<byte>();
        var ends = new int[chunks.Count];
        var sizes = new int[chunks.Count];
        var nodes = new MerkleNode[chunks.Count];
        var buffer = new byte[XorbChunkCodec.MaxEncodedLength(XorbChunkHeader.MaxUncompressedLength)];
        for (var i = 0; i < chunks.Count; i++)
        {
            var n = XorbChunkCodec.Encode(chunks[i], scheme, buffer);
            bytes.AddRange(buffer.AsSpan(0, n).ToArray());
            ends[i] = bytes.Count;
            sizes[i] = chunks[i].Length;
            nodes[i] = new MerkleNode(XetHashing.ChunkHash(chunks[i]), (ulong)chunks[i].Length);
        }
        var hash = XetHashing.XorbHash(nodes);
        _xorbs[hash] = new Xorb(bytes.ToArray(), ends, sizes, chunks.ToArray());
        return hash;
    }

    /// <summary>Registers a file made of the given terms; returns its file id and its bytes.</summary>
    public (XetHash FileId, byte[] Bytes) AddFile(IReadOnlyList<(XetHash Xorb, ChunkRange Chunks)> terms)
    {
        var data = new List<byte>();
        var nodes = new List<MerkleNode>();
        foreach (var (xorb, range) in terms)
        {
            var x = _xorbs[xorb];
            for (var c = range.Start; c < range.End; c++)
            {
                data.AddRange(x.Raw[c]);
                nodes.Add(new MerkleNode(XetHashing.ChunkHash(x.Raw[c]), (ulong)x.Raw[c].Length));
            }
        }
        var id = XetHashing.FileHash(nodes.ToArray());
        _files[id] = terms.ToList();
        return (id, data.ToArray());
    }

    public async Task<FileReconstruction> GetReconstructionAsync(XetHash fileId, long start, long endInclusive, CancellationToken ct)
    {
        ct.ThrowIfCancellationRequested();
        await Task.Yield(); // answers later, as a server does
        Interlocked.Increment(ref _reconstructions);
        var generation = Interlocked.Increment(ref _urlGeneration);
        var terms = _files[fileId];
        var kept = new List<ReconstructionTerm>();
        var perXorb = new Dictionary<XetHash, List<ChunkRange>>();
        long position = 0, offset = 0;
        var first = true;
        foreach (var (xorb, range) in terms)
        {
            var x = _xorbs[xorb];
            var s = range.Start;
            var e = range.End;
            // Drop leading chunks that end at or before start, trailing chunks that start after the end.
            var chunkStart = position;
            var keptStart = -1;
            long keptStartOffset = 0;
            var keptEnd = -1;
            for (var c = s; c < e; c++)
            {
                var chunkEnd = chunkStart + x.Sizes[c];
                if (chunkEnd > start && (chunkStart <= endInclusive || (KeepWholeTerms && keptStart >= 0)))
                {
                    if (keptStart < 0)
                    {
                        keptStart = c;
                        keptStartOffset = chunkStart;
                    }
                    keptEnd = c + 1;
                }
                chunkStart = chunkEnd;
            }
            position = chunkStart;
            if (keptStart < 0) continue;
            var chunks = new ChunkRange(keptStart, keptEnd);
            var length = 0;
            for (var c = keptStart; c < keptEnd; c++) length += x.Sizes[c];
            if (first)
            {
                offset = start - keptStartOffset;
                first = false;
            }
            kept.Add(new ReconstructionTerm(xorb, chunks, length));
            if (!perXorb.TryGetValue(xorb, out var list)) perXorb[xorb] = list = new List<ChunkRange>();
            list.Add(chunks);
        }
        var fetches = new Dictionary<XetHash, IReadOnlyList<XorbFetch>>();
        foreach (var (xorb, ranges) in perXorb)
        {
            var x = _xorbs[xorb];
            var merged = new List<ChunkRange>();
            foreach (var r in ranges.OrderBy(r => r.Start))
            {
                if (merged.Count > 0 && r.Start <= merged[^1].End)
                    merged[^1] = new ChunkRange(merged[^1].Start, Math.Max(merged[^1].End, r.End));
                else merged.Add(r);
            }
            var descriptors = merged.Select(r => new XorbRangeDescriptor(r,
                r.Start == 0 ? 0 : x.ChunkEnds[r.Start - 1], x.ChunkEnds[r.End - 1] - 1)).ToList();
            fetches[xorb] = new[] { new XorbFetch(xorb, new Uri($"mem://xorb/{xorb}?gen={generation}"), descriptors) };
        }
        var answer = new FileReconstruction(offset, kept, fetches);
        if (ReconstructionRewrite is { } rewrite) answer = rewrite(answer);
        return answer;
    }

    /// <summary>
    /// A lying answer: when <paramref name="answer"/> starts inside its first chunk (a segment boundary cuts that chunk,
    /// which the previous segment already served), that chunk is served from a xorb of its own holding a copy with one
    /// byte flipped, the rest of the term from where it was. Same lengths, so only the bytes tell.
    /// </summary>
    public FileReconstruction ServeStraddlingChunkDifferently(FileReconstruction answer)
    {
        if (answer.OffsetIntoFirstRange == 0 || answer.Terms.Count == 0) return answer;
        var first = answer.Terms[0];
        byte[] original;
        XetHash fake;
        int fakeEnd;
        lock (_gate) // fetches of other xorbs read the table meanwhile
        {
            original = _xorbs[first.Xorb].Raw[first.Chunks.Start];
            var forged = (byte[])original.Clone();
            forged[forged.Length / 2] ^= 0x5A;
            fake = AddXorb(new[] { forged }, compress: false);
            fakeEnd = _xorbs[fake].ChunkEnds[0];
        }
        var terms = new List<ReconstructionTerm> { new(fake, new ChunkRange(0, 1), original.Length) };
        if (first.Chunks.Count > 1)
            terms.Add(new ReconstructionTerm(first.Xorb, new ChunkRange(first.Chunks.Start + 1, first.Chunks.End), first.UnpackedLength - original.Length));
        terms.AddRange(answer.Terms.Skip(1));
        var xorbs = new Dictionary<XetHash, IReadOnlyList<XorbFetch>>(answer.Xorbs.ToDictionary(p => p.Key, p => p.Value))
        {
            [fake] = new[] { new XorbFetch(fake, new Uri($"mem://xorb/{fake}?gen={int.MaxValue}"),
                new[] { new XorbRangeDescriptor(new ChunkRange(0, 1), 0, fakeEnd - 1) }) },
        };
        return new FileReconstruction(answer.OffsetIntoFirstRange, terms, xorbs);
    }

    public async Task FetchXorbRangesAsync(XorbFetch fetch, Memory<byte> destination, CancellationToken ct, IProgress<long>? received = null)
    {
        Interlocked.Increment(ref _fetches);
        Interlocked.Increment(ref _inFlight);
        try
        {
            int delay;
            lock (_gate) delay = MaxFetchDelayMs > 0 ? _delays.Next(MaxFetchDelayMs + 1) : 0;
            try
            {
                if (Hang) await Task.Delay(Timeout.Infinite, ct);
                if (FetchGate is { } gate) await gate.WaitAsync(ct);
                if (delay > 0) await Task.Delay(delay, ct);
                else await Task.Yield();
            }
            catch (OperationCanceledException) when (CancellationLag is { } lag)
            {
                await lag;
                throw;
            }
            if (FetchFault?.Invoke(fetch) is { } fault) throw fault;
            var generation = int.Parse(fetch.Url.Query.Substring("?gen=".Length));
            if (generation < ExpireUrlsBefore) throw new XetUrlExpiredException(fetch.Xorb.ToString(), $"URL of xorb {fetch.Xorb} expired");
            if (HalfwayGate is { } halfway)
            {
                received?.Report(fetch.TotalLength / 2);
                await halfway.WaitAsync(ct);
            }
            Xorb x;
            lock (_gate) x = _xorbs[fetch.Xorb];
            var at = 0;
            foreach (var r in fetch.Ranges)
            {
                x.Bytes.AsMemory((int)r.ByteStart, (int)r.Length).CopyTo(destination.Slice(at));
                at += (int)r.Length;
            }
            Interlocked.Add(ref _bytesServed, at);
            received?.Report(at);
        }
        finally
        {
            Interlocked.Decrement(ref _inFlight);
        }
    }

    private sealed record Xorb(byte[] Bytes, int[] ChunkEnds, int[] Sizes, byte[][] Raw);
}
