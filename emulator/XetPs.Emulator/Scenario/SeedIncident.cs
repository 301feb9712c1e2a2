using System;
using System.Collections.Generic;
using System.Globalization;
using System.IO;
using System.Security.Cryptography;
using System.Threading;
using System.Threading.Tasks;
using XetPs.Format;
using XetPs.Emulator.Store;


namespace XetPs.Emulator.Scenario;

/// <summary>
/// The shape of the reported seed incident at a size this machine holds: one file whose reconstruction has
/// <see cref="TermCount"/> terms (2366) over <see cref="XorbCount"/> xorbs (932), interleaved, so that the same xorb
/// ranges are used by terms far apart in the file. Term t reads xorb (t * 577) mod X; its k-th use of that xorb
/// (k = t / X) reads chunks [0, c) when k is even and [c + 1, 2c + 1) when k is odd, with c chunks per term: uses 0
/// and 2 are the same range, X terms apart, and use 1 is a second, separate range of the same xorb (so one URL entry
/// carries two byte ranges: multipart). Half the xorbs hold float-like chunks (BG4), half
/// random (None). The file is composed from terms in the store (as a server holds it), not chunked from a stream.
/// With <see cref="Generated"/>, every xorb is random and generated on request (<see cref="GeneratedXorb"/>): the
/// store keeps only its chunk hashes, so the reported 48.5 GB fits beside the client's copy on one disk.
/// </summary>
public sealed record SeedIncident
{
    public int TermCount { get; init; } = 2366;
    public int XorbCount { get; init; } = 932;

    /// <summary>Approximate file size; the real size is TermCount * ChunksPerTerm * ChunkSize.</summary>
    public long FileSize { get; init; } = 8L << 20;

    public int Seed { get; init; } = 2366;

    /// <summary>Every xorb random and generated when read, none written (the store holds metas only).</summary>
    public bool Generated { get; init; }

    /// <summary>Chunks per term; 0 (default) = enough 64 KiB chunks to reach <see cref="FileSize"/>, at least 1.
    /// Tests set it (e.g. 4) to get overlapping ranges with small chunks.</summary>
    public int ChunksPerTerm { get; init; }

    public int EffectiveChunksPerTerm => ChunksPerTerm > 0 ? ChunksPerTerm : (int)Math.Max(1, FileSize / ((long)TermCount * GearChunker.TargetChunk));

    /// <summary>Bytes per chunk (at most 128 KiB).</summary>
    public int ChunkSize => (int)Math.Clamp(FileSize / ((long)TermCount * EffectiveChunksPerTerm), 64, GearChunker.MaxChunk);

    public long ActualFileSize => (long)TermCount * EffectiveChunksPerTerm * ChunkSize;

    internal string CacheKey => string.Create(CultureInfo.InvariantCulture, $"gen:seed-incident:{TermCount}:{XorbCount}:{FileSize}:{EffectiveChunksPerTerm}:{Seed}{(Generated ? ":generated" : "")}");

    /// <summary>The xorb and chunk range of term <paramref name="t"/>.</summary>
    public (int Xorb, int Start, int End) TermAt(int t)
    {
        int c = EffectiveChunksPerTerm;
        int xorb = (int)((long)t * 577 % XorbCount);
        int use = t / XorbCount;
        int start = use % 2 == 0 ? 0 : c + 1;
        return (xorb, start, start + c);
    }

    internal async Task<StoredFile> BuildAsync(EmulatorStore store, CancellationToken ct)
    {
        if (TermCount < 1 || XorbCount < 1 || XorbCount > TermCount)
            throw new ArgumentOutOfRangeException(nameof(XorbCount), $"Need 1 <= xorbs ({XorbCount}) <= terms ({TermCount}).");
        if (GCD(577, XorbCount) != 1 && XorbCount > 1)
            throw new ArgumentOutOfRangeException(nameof(XorbCount), $"The interleave stride 577 must be coprime with the xorb count ({XorbCount}).");
        var hashes = BuildXorbs(store, ct);

        var terms = new List<StoredTerm>(TermCount);
        var merkle = new MerkleHashBuilder();
        long total = 0;
        for (int t = 0; t < TermCount; t++)
        {
            var (x, s, e) = TermAt(t);
            var meta = store.Xorbs.Get(hashes[x]);
            for (int i = s; i < e; i++) merkle.Add(meta.ChunkHashes[i], (ulong)meta.UnpackedLength(i));
            int length = checked((int)(meta.UnpackedEnd(e) - meta.UnpackedStart(s)));
            terms.Add(new StoredTerm(hashes[x], s, e, length));
            total += length;
        }
        var fileHash = merkle.FinishFileHash();
        // SHA-256 of the content, decoded back from the xorbs just written (streaming).
        var draft = new FileRecord(fileHash, total, "", terms);
        using var sha = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        await using (var hashing = new HashingSink(sha))
            await store.CopyXetContentAsync(draft, hashing, 0, total, ct).ConfigureAwait(false);
        string sha256 = Convert.ToHexString(sha.GetHashAndReset()).ToLowerInvariant();
        store.PutFileRecord(new FileRecord(fileHash, total, sha256, terms));
        string pointer = LfsPointer.Text(sha256, total);
        return new StoredFile("", total, sha256, EmulatorStore.GitBlobOid(System.Text.Encoding.UTF8.GetBytes(pointer)), fileHash.ToString());
    }

    /// <summary>Stores the incident's xorbs (or their generators) and returns their hashes, xorb by xorb.</summary>
    private XetHash[] BuildXorbs(EmulatorStore store, CancellationToken ct)
    {
        int c = EffectiveChunksPerTerm, size = ChunkSize;
        int chunksPerXorb = 2 * c + 1;
        var hashes = new XetHash[XorbCount];
        byte[] chunk = new byte[GearChunker.MaxChunk];
        byte[] block = new byte[GeneratedStream.BlockSize];
        for (int x = 0; x < XorbCount; x++)
        {
            ct.ThrowIfCancellationRequested();
            if (Generated)
            {
                // Not added to the chunk index: these chunks exist for downloads, and no upload dedups against them.
                hashes[x] = store.Xorbs.PutGenerated(new GeneratedXorb(Seed, x, chunksPerXorb, size)).Hash;
                continue;
            }
            var builder = new XorbBuilder();
            bool floats = x % 2 == 0;
            for (int k = 0; k < chunksPerXorb; k++)
            {
                // Chunk (x, k) content: generator blocks seeded by (seed, x, k).
                int chunkSeed = unchecked(Seed * 7919 + x * 104729 + k);
                for (int off = 0; off < size; off += block.Length)
                {
                    if (floats) ScenarioData.FillFloats(chunkSeed, off / block.Length, block);
                    else ScenarioData.FillRandom(chunkSeed, off / block.Length, block);
                    block.AsSpan(0, Math.Min(block.Length, size - off)).CopyTo(chunk.AsSpan(off));
                }
                var raw = chunk.AsSpan(0, size);
                if (!builder.TryAdd(raw, XorbChunkCodec.ChooseScheme(raw)))
                    throw new InvalidOperationException($"Xorb {x} of the seed incident cannot hold {chunksPerXorb} chunks of {size} bytes.");
            }
            var meta = store.Xorbs.Put(builder.Build());
            store.Chunks.AddXorb(meta);
            hashes[x] = meta.Hash;
        }
        return hashes;
    }

    private static int GCD(int a, int b) => b == 0 ? a : GCD(b, a % b);

    /// <summary>A write-only stream that feeds a hash.</summary>
    private sealed class HashingSink : Stream
    {
        private readonly IncrementalHash _hash;
        public HashingSink(IncrementalHash hash) => _hash = hash;
        public override void Write(byte[] buffer, int offset, int count) => _hash.AppendData(buffer, offset, count);
        public override void Write(ReadOnlySpan<byte> buffer) => _hash.AppendData(buffer);
        public override ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default)
        {
            _hash.AppendData(buffer.Span);
            return ValueTask.CompletedTask;
        }
        public override bool CanRead => false;
        public override bool CanSeek => false;
        public override bool CanWrite => true;
        public override long Length => throw new NotSupportedException();
        public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }
        public override void Flush() { }
        public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();
        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();
    }
}
