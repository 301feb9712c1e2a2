using System;
using System.Buffers;
using System.Collections.Generic;
using System.IO;
using System.Security.Cryptography;
using System.Threading;
using System.Threading.Tasks;
using XetPs.Format;

namespace XetPs.Emulator.Store;

/// <summary>The result of ingesting one file: its size, hashes and terms (some may point at a xorb not sealed yet).</summary>
internal sealed class IngestedFile
{
    public long Size;
    public string Sha256 = "";
    public XetHash FileHash;
    public readonly List<XorbPacker.PendingTerm> Terms = new();
}

/// <summary>
/// The upload side of one commit: cuts file streams into content-defined chunks, looks each chunk up in the dedup
/// index (stored xorbs and the xorbs of this commit), and packs new chunks into xorbs of at most 64 MiB / 8192
/// chunks, sealing each one to the catalog when full. Terms of one file merge while consecutive chunks sit in the
/// same xorb. Invariant: after <see cref="Seal"/>, every pending term names a stored xorb. Not thread-safe: one
/// commit at a time (the store serializes commits).
/// </summary>
internal sealed class XorbPacker
{
    private const int ReadBlock = 1 << 20;
    private readonly XorbCatalog _catalog;
    private readonly ChunkIndex _index;
    private readonly CompressionScheme? _compression;
    private readonly Dictionary<XetHash, (PendingXorb Xorb, int Index)> _pendingChunks = new();
    private PendingXorb _current = new();

    public XorbPacker(XorbCatalog catalog, ChunkIndex index, CompressionScheme? compression)
    {
        _catalog = catalog;
        _index = index;
        _compression = compression;
    }

    /// <summary>A xorb of this commit; <see cref="Hash"/> is set when it is sealed.</summary>
    internal sealed class PendingXorb
    {
        public XorbBuilder Builder = new();
        public XetHash? Hash;
    }

    internal sealed class PendingTerm
    {
        public PendingXorb? Pending;
        public XetHash Stored;
        public int Start, End;
        public long Length;

        public StoredTerm Resolve() => new(Pending is null ? Stored : Pending.Hash ?? throw new InvalidOperationException("A term names a xorb that was never sealed."),
                                           Start, End, checked((int)Length));
    }

    /// <summary>Reads <paramref name="content"/> to its end, front to back, with at most one 1 MiB block and one chunk in memory.</summary>
    public async Task<IngestedFile> IngestAsync(Stream content, ReadOnlyMemory<byte> prefix, CancellationToken ct)
    {
        var file = new IngestedFile();
        var chunker = new GearChunker();
        var merkle = new MerkleHashBuilder();
        using var sha = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        byte[] block = ArrayPool<byte>.Shared.Rent(ReadBlock);
        byte[] chunk = ArrayPool<byte>.Shared.Rent(GearChunker.MaxChunk);
        int chunkLength = 0;
        try
        {
            void Feed(ReadOnlySpan<byte> data)
            {
                sha.AppendData(data);
                file.Size += data.Length;
                while (data.Length > 0)
                {
                    int cut = chunker.NextBoundary(data);
                    int take = cut < 0 ? data.Length : cut;
                    if (chunkLength + take > chunk.Length)
                        throw new InvalidOperationException($"The chunker produced a chunk longer than {GearChunker.MaxChunk} bytes.");
                    data.Slice(0, take).CopyTo(chunk.AsSpan(chunkLength));
                    chunkLength += take;
                    data = data.Slice(take);
                    if (cut < 0) break;
                    AddChunk(file, merkle, chunk.AsSpan(0, chunkLength));
                    chunkLength = 0;
                }
            }

            if (!prefix.IsEmpty) Feed(prefix.Span);
            int n;
            while ((n = await content.ReadAsync(block.AsMemory(0, ReadBlock), ct).ConfigureAwait(false)) > 0)
                Feed(block.AsSpan(0, n));
            if (chunkLength > 0) AddChunk(file, merkle, chunk.AsSpan(0, chunkLength));
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(block);
            ArrayPool<byte>.Shared.Return(chunk);
        }
        file.Sha256 = Convert.ToHexString(sha.GetHashAndReset()).ToLowerInvariant();
        file.FileHash = merkle.Count == 0 ? XetHash.Zero : merkle.FinishFileHash();
        return file;
    }

    private void AddChunk(IngestedFile file, MerkleHashBuilder merkle, ReadOnlySpan<byte> raw)
    {
        XetHash hash = XetHashing.ChunkHash(raw);
        merkle.Add(hash, (ulong)raw.Length);
        if (_index.TryGet(hash, out var stored))
        {
            Append(file, null, stored.Xorb, stored.Index, raw.Length);
            return;
        }
        if (_pendingChunks.TryGetValue(hash, out var pending))
        {
            Append(file, pending.Xorb, default, pending.Index, raw.Length);
            return;
        }
        CompressionScheme scheme = _compression ?? XorbChunkCodec.ChooseScheme(raw);
        int index = _current.Builder.ChunkCount;
        if (!_current.Builder.TryAdd(raw, scheme))
        {
            SealCurrent();
            index = _current.Builder.ChunkCount;
            if (!_current.Builder.TryAdd(raw, scheme))
                throw new InvalidOperationException($"An empty xorb refused a {raw.Length}-byte chunk.");
        }
        _pendingChunks[hash] = (_current, index);
        Append(file, _current, default, index, raw.Length);
    }

    private static void Append(IngestedFile file, PendingXorb? pending, XetHash stored, int index, int length)
    {
        if (file.Terms.Count > 0)
        {
            var last = file.Terms[^1];
            bool sameXorb = pending is not null ? ReferenceEquals(last.Pending, pending) : last.Pending is null && last.Stored == stored;
            if (sameXorb && last.End == index)
            {
                last.End++;
                last.Length += length;
                return;
            }
        }
        file.Terms.Add(new PendingTerm { Pending = pending, Stored = stored, Start = index, End = index + 1, Length = length });
    }

    private void SealCurrent()
    {
        var sealing = _current;
        _current = new PendingXorb();
        if (sealing.Builder.ChunkCount == 0) return;
        var meta = _catalog.Put(sealing.Builder.Build());
        sealing.Hash = meta.Hash;
        _index.AddXorb(meta);
    }

    /// <summary>Seals the open xorb; after this every term of every ingested file resolves to a stored xorb.</summary>
    public void Seal()
    {
        SealCurrent();
        _pendingChunks.Clear();
    }
}
