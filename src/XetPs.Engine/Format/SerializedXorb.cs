using System;
using System.Buffers.Binary;
using System.Collections.Generic;

namespace XetPs.Format;

/// <summary>
/// A whole xorb as stored by the CAS (§3.1, §3.4): the chunk series followed by the V1 footer, plus what the
/// footer says. Made by <see cref="XorbBuilder"/> or read back by <see cref="Parse"/>. Invariant: every instance is
/// self-consistent: the offsets walk the chunk bytes exactly, each chunk decodes to its unpacked size and hashes to
/// its listed hash, and <see cref="Hash"/> is the merkle root of (chunk hash, size).
/// </summary>
public sealed class SerializedXorb
{
    internal SerializedXorb(XetHash hash, byte[] bytes, int chunkDataLength, uint[] boundaryEnds, uint[] unpackedEnds, XetHash[] chunkHashes)
    {
        Hash = hash;
        Bytes = bytes;
        ChunkDataLength = chunkDataLength;
        ChunkBoundaryOffsets = Array.AsReadOnly(boundaryEnds);
        UnpackedChunkOffsets = Array.AsReadOnly(unpackedEnds);
        ChunkHashes = Array.AsReadOnly(chunkHashes);
    }

    public XetHash Hash { get; }

    /// <summary>The chunk series followed by the V1 footer and its length word.</summary>
    public byte[] Bytes { get; }

    public int ChunkCount => ChunkHashes.Count;

    /// <summary>Bytes before the footer: what a CAS serves byte ranges of, and what an upload sends.</summary>
    public int ChunkDataLength { get; }

    /// <summary>Cumulative serialized END offsets: chunk k is <c>[off[k-1], off[k])</c> with <c>off[-1] = 0</c>.</summary>
    public IReadOnlyList<uint> ChunkBoundaryOffsets { get; }

    /// <summary>Cumulative decompressed END offsets.</summary>
    public IReadOnlyList<uint> UnpackedChunkOffsets { get; }

    public IReadOnlyList<XetHash> ChunkHashes { get; }

    /// <summary>
    /// Reads a serialized xorb with its V1 footer and validates all of it: footer layout and section offsets, the
    /// limits, every chunk (decoded, its size and hash checked against the footer) and the xorb hash.
    /// </summary>
    public static SerializedXorb Parse(ReadOnlySpan<byte> bytes)
    {
        if (bytes.Length > XorbBuilder.MaxXorbBytes)
            throw new XorbFormatException($"Xorb of {bytes.Length} bytes exceeds the {XorbBuilder.MaxXorbBytes}-byte limit.");
        if (bytes.Length < 4)
            throw new XorbFormatException($"Xorb of {bytes.Length} bytes is too short to hold a footer.");
        uint infoLength = BinaryPrimitives.ReadUInt32LittleEndian(bytes.Slice(bytes.Length - 4));
        if (infoLength < XorbFooter.InfoLength(0) || infoLength > bytes.Length - 4)
            throw new XorbFormatException($"Xorb footer length {infoLength} does not fit a {bytes.Length}-byte xorb.");
        int footerStart = bytes.Length - 4 - (int)infoLength;
        var footer = bytes.Slice(footerStart, (int)infoLength);

        Expect(footer, 0, XorbFooter.Ident, "footer");
        if (footer[7] != XorbFooter.Version)
            throw new XorbFormatException($"Xorb footer version {footer[7]} is not supported (only V1).");
        var hash = new XetHash(footer.Slice(8, XetHash.Size));

        int pos = 40;
        Expect(footer, pos, XorbFooter.HashesIdent, "hashes section");
        if (footer[pos + 7] != XorbFooter.HashesVersion)
            throw new XorbFormatException($"Xorb hashes section version {footer[pos + 7]} is not supported.");
        uint count = BinaryPrimitives.ReadUInt32LittleEndian(footer.Slice(pos + 8));
        if (count == 0 || count > XorbBuilder.MaxXorbChunks)
            throw new XorbFormatException($"Xorb chunk count {count} is outside 1..{XorbBuilder.MaxXorbChunks}.");
        int n = (int)count;
        if (infoLength != XorbFooter.InfoLength(n))
            throw new XorbFormatException($"Xorb footer length {infoLength} does not match {n} chunks ({XorbFooter.InfoLength(n)}).");
        var (hashes, boundaries, unpacked) = ReadSections(footer, pos, n, (int)infoLength);
        if (boundaries[n - 1] != footerStart)
            throw new XorbFormatException($"Xorb chunk offsets end at {boundaries[n - 1]}, but the footer starts at {footerStart}.");
        VerifyChunks(bytes.Slice(0, footerStart), boundaries, unpacked, hashes);

        var nodes = new MerkleNode[n];
        for (int i = 0; i < n; i++)
            nodes[i] = new MerkleNode(hashes[i], unpacked[i] - (i == 0 ? 0u : unpacked[i - 1]));
        var computed = XetHashing.XorbHash(nodes);
        if (computed != hash)
            throw new XorbFormatException($"Xorb hash {hash} in the footer does not match {computed} computed from its chunks.");
        return new SerializedXorb(hash, bytes.ToArray(), footerStart, boundaries, unpacked, hashes);
    }

    /// <summary>Reads the footer's hashes and boundaries sections (from <paramref name="pos"/>, past the chunk count)
    /// and checks the tail's section offsets against where they really are.</summary>
    private static (XetHash[] Hashes, uint[] Boundaries, uint[] Unpacked) ReadSections(ReadOnlySpan<byte> footer, int pos, int n, int infoLength)
    {
        int hashesStart = pos;
        pos += 12;
        var hashes = new XetHash[n];
        for (int i = 0; i < n; i++, pos += XetHash.Size)
            hashes[i] = new XetHash(footer.Slice(pos, XetHash.Size));

        int boundariesStart = pos;
        Expect(footer, pos, XorbFooter.BoundariesIdent, "boundaries section");
        if (footer[pos + 7] != XorbFooter.BoundariesVersion)
            throw new XorbFormatException($"Xorb boundaries section version {footer[pos + 7]} is not supported (unpacked offsets are required).");
        ExpectCount(footer, pos + 8, n, "boundaries section");
        pos += 12;
        var boundaries = new uint[n];
        for (int i = 0; i < n; i++, pos += 4)
            boundaries[i] = BinaryPrimitives.ReadUInt32LittleEndian(footer.Slice(pos));
        var unpacked = new uint[n];
        for (int i = 0; i < n; i++, pos += 4)
            unpacked[i] = BinaryPrimitives.ReadUInt32LittleEndian(footer.Slice(pos));

        ExpectCount(footer, pos, n, "footer tail");
        int end = infoLength;
        uint hashesOffset = BinaryPrimitives.ReadUInt32LittleEndian(footer.Slice(pos + 4));
        uint boundariesOffset = BinaryPrimitives.ReadUInt32LittleEndian(footer.Slice(pos + 8));
        if (hashesOffset != end - hashesStart || boundariesOffset != end - boundariesStart)
            throw new XorbFormatException(
                $"Xorb footer section offsets ({hashesOffset}, {boundariesOffset}) do not match its layout ({end - hashesStart}, {end - boundariesStart}).");

        return (hashes, boundaries, unpacked);
    }

    private static void VerifyChunks(ReadOnlySpan<byte> data, uint[] boundaries, uint[] unpacked, XetHash[] hashes)
    {
        var buffer = new byte[XorbChunkHeader.MaxUncompressedLength];
        uint start = 0, unpackedStart = 0;
        for (int i = 0; i < boundaries.Length; i++)
        {
            if (boundaries[i] <= start || boundaries[i] > data.Length)
                throw new XorbFormatException($"Xorb chunk {i} boundary {boundaries[i]} is out of order or past the chunk data.");
            if (unpacked[i] < unpackedStart)
                throw new XorbFormatException($"Xorb chunk {i} unpacked offset {unpacked[i]} goes backwards.");
            var chunk = data.Slice((int)start, (int)(boundaries[i] - start));
            int length;
            int consumed;
            try
            {
                length = XorbChunkCodec.Decode(chunk, buffer, out consumed);
            }
            catch (XorbFormatException e)
            {
                throw new XorbFormatException($"Xorb chunk {i} at offset {start}: {e.Message}", e);
            }
            if (consumed != chunk.Length)
                throw new XorbFormatException($"Xorb chunk {i} is {consumed} bytes but its boundaries span {chunk.Length}.");
            if (length != unpacked[i] - unpackedStart)
                throw new XorbFormatException($"Xorb chunk {i} decodes to {length} bytes, the footer says {unpacked[i] - unpackedStart}.");
            if (XetHashing.ChunkHash(buffer.AsSpan(0, length)) != hashes[i])
                throw new XorbFormatException($"Xorb chunk {i} does not hash to {hashes[i]} listed in the footer.");
            start = boundaries[i];
            unpackedStart = unpacked[i];
        }
    }

    private static void Expect(ReadOnlySpan<byte> footer, int pos, ReadOnlySpan<byte> ident, string what)
    {
        if (!footer.Slice(pos, ident.Length).SequenceEqual(ident))
            throw new XorbFormatException($"Xorb {what} does not start with \"{System.Text.Encoding.ASCII.GetString(ident.ToArray())}\".");
    }

    private static void ExpectCount(ReadOnlySpan<byte> footer, int pos, int n, string what)
    {
        uint count = BinaryPrimitives.ReadUInt32LittleEndian(footer.Slice(pos));
        if (count != n)
            throw new XorbFormatException($"Xorb {what} counts {count} chunks, the hashes section {n}.");
    }
}
