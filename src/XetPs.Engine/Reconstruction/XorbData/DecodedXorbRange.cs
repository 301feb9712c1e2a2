using XetPs.Cas;
using XetPs.Format;

namespace XetPs.Reconstruction;

/// <summary>
/// The decompressed bytes of one byte range of a xorb fetch: chunks <see cref="Chunks"/> back to back, with each
/// chunk's end offset and (when verifying) its chunk hash. Terms slice it; it is decoded once and never mutated.
/// </summary>
internal sealed class DecodedXorbRange
{
    public DecodedXorbRange(ChunkRange chunks, byte[] data, int dataOffset, int[] chunkEnds, XetHash[]? chunkHashes)
    {
        Chunks = chunks;
        Data = data;
        DataOffset = dataOffset;
        ChunkEnds = chunkEnds;
        ChunkHashes = chunkHashes;
    }

    public ChunkRange Chunks { get; }

    /// <summary>The array holding the bytes; the range's bytes start at <see cref="DataOffset"/>. Ranges of stored
    /// (uncompressed) chunks are compacted in place in the download buffer, so several ranges may share one array.</summary>
    public byte[] Data { get; }

    public int DataOffset { get; }

    /// <summary>Decoded bytes of the range.</summary>
    public int Length => ChunkEnds.Length == 0 ? 0 : ChunkEnds[ChunkEnds.Length - 1];

    /// <summary>ChunkEnds[i]: end offset (from <see cref="DataOffset"/>) of chunk Chunks.Start + i.</summary>
    public int[] ChunkEnds { get; }

    public XetHash[]? ChunkHashes { get; }

    /// <summary>Offset from <see cref="DataOffset"/> where chunk <paramref name="chunkIndex"/> (a xorb chunk index) starts.</summary>
    public int ChunkStart(int chunkIndex) => chunkIndex == Chunks.Start ? 0 : ChunkEnds[chunkIndex - Chunks.Start - 1];

    /// <summary>Offset from <see cref="DataOffset"/> where chunk <paramref name="chunkIndex"/> ends.</summary>
    public int ChunkEnd(int chunkIndex) => ChunkEnds[chunkIndex - Chunks.Start];
}
