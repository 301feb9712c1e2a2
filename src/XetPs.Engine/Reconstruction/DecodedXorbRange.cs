using XetPs.Cas;
using XetPs.Format;

namespace XetPs.Reconstruction;

/// <summary>
/// The decompressed bytes of one byte range of a xorb fetch: chunks <see cref="Chunks"/> back to back, with each
/// chunk's end offset and (when verifying) its chunk hash. Terms slice it; it is decoded once and never mutated.
/// </summary>
internal sealed class DecodedXorbRange
{
    public DecodedXorbRange(ChunkRange chunks, byte[] data, int[] chunkEnds, XetHash[]? chunkHashes)
    {
        Chunks = chunks;
        Data = data;
        ChunkEnds = chunkEnds;
        ChunkHashes = chunkHashes;
    }

    public ChunkRange Chunks { get; }

    public byte[] Data { get; }

    /// <summary>ChunkEnds[i]: end offset in <see cref="Data"/> of chunk Chunks.Start + i.</summary>
    public int[] ChunkEnds { get; }

    public XetHash[]? ChunkHashes { get; }

    /// <summary>Offset in <see cref="Data"/> where chunk <paramref name="chunkIndex"/> (a xorb chunk index) starts.</summary>
    public int ChunkStart(int chunkIndex) => chunkIndex == Chunks.Start ? 0 : ChunkEnds[chunkIndex - Chunks.Start - 1];

    /// <summary>Offset in <see cref="Data"/> where chunk <paramref name="chunkIndex"/> ends.</summary>
    public int ChunkEnd(int chunkIndex) => ChunkEnds[chunkIndex - Chunks.Start];
}
