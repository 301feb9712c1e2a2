using System;
using System.Collections.Generic;
using XetPs.Cas;
using XetPs.Format;

namespace XetPs.Reconstruction;

/// <summary>
/// Decodes the bytes of one xorb fetch (all its ranges, back to back) into <see cref="DecodedXorbRange"/>s: a pure
/// function of its inputs, with no lock, no I/O and no state. Two passes: a header walk that checks every chunk
/// header against the fetch's descriptors and the planned terms' unpacked lengths, so lying metadata fails before
/// any chunk is decoded or any decoded memory is taken; then the decode itself, in place when the walk proved it
/// safe, else into a buffer per range.
/// </summary>
internal static class XorbDecoder
{
    /// <summary>
    /// Decodes the raw bytes of every range of <paramref name="fetch"/>, which lie in <paramref name="raw"/> from
    /// <paramref name="rawOffset"/> on. In place: the compressed bytes sit at the tail of the load's buffer and the
    /// decoded ranges are written back to back from its start (<paramref name="outputOffset"/>), front to back,
    /// which is safe whenever no chunk's output reaches compressed bytes not yet read (checked for every chunk during
    /// the header walk; stored chunks always pass, so incompressible data is compacted with no second buffer); then
    /// <paramref name="rangeBuffers"/> is null. Only when that check fails (the terms under-described the ranges) is
    /// each range decoded into a buffer of its own from <paramref name="pool"/>, handed to the caller in
    /// <paramref name="rangeBuffers"/> (returned to the pool here if decoding fails). Ranges that decode to more
    /// than <paramref name="maxDecoded"/> bytes in all are refused after the header walk, before any decoded memory
    /// is taken (see XorbRegistry.MaxLoadBytes).
    /// </summary>
    internal static DecodedXorbRange[] Decode(XorbFetch fetch, byte[] raw, IReadOnlyDictionary<ChunkRange, int> expected, bool hash,
        XorbBufferPool? pool, int rawOffset, int outputOffset, out XorbBuffer[]? rangeBuffers, long maxDecoded = long.MaxValue)
    {
        var walk = Walk(fetch, raw, expected, rawOffset, outputOffset);
        long decoded = 0;
        foreach (var total in walk.Totals) decoded += total;
        if (decoded > maxDecoded)
            throw new XetProtocolException(
                $"The fetch of xorb {fetch.Xorb} decodes to {decoded} bytes, more than the {maxDecoded} bytes one load may hold; " +
                "its terms name fewer bytes than its ranges hold.");
        var count = fetch.Ranges.Count;
        var result = new DecodedXorbRange[count];
        var owned = walk.InPlace ? null : new XorbBuffer[count];
        var rented = 0;
        var source = rawOffset;
        var compacted = outputOffset; // in-place write position in raw
        try
        {
            for (var r = 0; r < count; r++)
            {
                var descriptor = fetch.Ranges[r];
                byte[] data;
                int dataStart;
                if (walk.InPlace)
                {
                    data = raw;
                    dataStart = compacted;
                }
                else
                {
                    var own = pool?.Rent(walk.Totals[r]) ?? XorbBuffer.Of(new byte[walk.Totals[r]]);
                    owned![rented++] = own;
                    data = own.Array;
                    dataStart = own.Offset;
                }
                result[r] = DecodeRange(fetch.Xorb, descriptor, raw, source, walk.Ends[r], data, dataStart, hash);
                source += (int)descriptor.Length;
                if (walk.InPlace) compacted += result[r].Length;
            }
        }
        catch
        {
            if (pool is not null)
                for (var r = 0; r < rented; r++) pool.Return(owned![r]);
            throw;
        }
        rangeBuffers = owned;
        return result;
    }

    /// <summary>What the header walk found: each range's chunk ends and decoded total, and whether every chunk can
    /// be decoded in place.</summary>
    private readonly struct HeaderWalk
    {
        public HeaderWalk(int[][] ends, long[] totals, bool inPlace)
        {
            Ends = ends;
            Totals = totals;
            InPlace = inPlace;
        }

        public int[][] Ends { get; }

        public long[] Totals { get; }

        public bool InPlace { get; }
    }

    /// <summary>Reads every chunk header of every range and checks them against the descriptors (chunk count, exact
    /// byte length) and the planned terms' unpacked lengths; decides whether decoding in place is safe.</summary>
    private static HeaderWalk Walk(XorbFetch fetch, byte[] raw, IReadOnlyDictionary<ChunkRange, int> expected, int rawOffset, int outputOffset)
    {
        var count = fetch.Ranges.Count;
        var ends = new int[count][];
        var totals = new long[count];
        var inPlace = true;
        long read = rawOffset;     // absolute position of the next chunk header in raw
        long write = outputOffset; // absolute end of the decoded output if decoded in place
        long offset = rawOffset;
        for (var r = 0; r < count; r++)
        {
            var descriptor = fetch.Ranges[r];
            var source = new ReadOnlySpan<byte>(raw, (int)offset, (int)descriptor.Length);
            offset += descriptor.Length;
            ends[r] = WalkRange(fetch.Xorb, descriptor, source, ref read, ref write, ref inPlace);
            CheckTerms(fetch.Xorb, descriptor, ends[r], expected);
            totals[r] = ends[r].Length == 0 ? 0 : ends[r][ends[r].Length - 1];
        }
        return new HeaderWalk(ends, totals, inPlace);
    }

    /// <summary>The chunk ends of one range; clears <paramref name="inPlace"/> when a chunk's in-place output would
    /// reach compressed bytes not yet read.</summary>
    private static int[] WalkRange(XetHash xorb, XorbRangeDescriptor descriptor, ReadOnlySpan<byte> source, ref long read, ref long write, ref bool inPlace)
    {
        var chunkCount = descriptor.Chunks.Count;
        var rangeEnds = new int[chunkCount];
        var position = 0;
        long total = 0;
        for (var i = 0; i < chunkCount; i++)
        {
            if (position >= source.Length)
                throw new XetProtocolException(
                    $"Range {descriptor.Chunks} of xorb {xorb} holds {i} chunks in {descriptor.Length} bytes; {chunkCount} were promised.");
            var header = XorbChunkHeader.Read(source.Slice(position));
            position += XorbChunkHeader.Size + header.CompressedLength;
            if (position > source.Length)
                throw new XorbFormatException(
                    $"Chunk {descriptor.Chunks.Start + i} of xorb {xorb} runs past the end of its range ({descriptor.Length} bytes).");
            if (header.Scheme == CompressionScheme.None && header.CompressedLength != header.UncompressedLength)
                throw new XorbFormatException(
                    $"Chunk {descriptor.Chunks.Start + i} of xorb {xorb} is stored uncompressed but its header gives {header.CompressedLength} and {header.UncompressedLength} bytes.");
            // In place: the chunk's output must end before the next chunk's header; an LZ4 frame decodes straight
            // into its output, so that output must also end before the frame's own bytes (BG4 and stored chunks are
            // read whole before their output is written).
            var limit = header.Scheme == CompressionScheme.Lz4 ? read + XorbChunkHeader.Size : read + XorbChunkHeader.Size + header.CompressedLength;
            write += header.UncompressedLength;
            read += XorbChunkHeader.Size + header.CompressedLength;
            if (write > limit) inPlace = false;
            total += header.UncompressedLength;
            rangeEnds[i] = (int)total;
        }
        if (position != source.Length)
            throw new XetProtocolException(
                $"Range {descriptor.Chunks} of xorb {xorb} has {source.Length - position} bytes after its last chunk.");
        return rangeEnds;
    }

    /// <summary>Every planned term inside the range must claim exactly the bytes its chunks hold.</summary>
    private static void CheckTerms(XetHash xorb, XorbRangeDescriptor descriptor, int[] rangeEnds, IReadOnlyDictionary<ChunkRange, int> expected)
    {
        foreach (var pair in expected)
        {
            if (!descriptor.Chunks.Contains(pair.Key)) continue;
            var start = pair.Key.Start == descriptor.Chunks.Start ? 0 : rangeEnds[pair.Key.Start - descriptor.Chunks.Start - 1];
            var length = rangeEnds[pair.Key.End - descriptor.Chunks.Start - 1] - start;
            if (length != pair.Value)
                throw new XetProtocolException(
                    $"A term of xorb {xorb}, chunks {pair.Key}, claims unpacked_length {pair.Value} but its chunks hold {length} bytes.");
        }
    }

    /// <summary>Decodes the chunks of one range from <paramref name="raw"/> at <paramref name="source"/> into
    /// <paramref name="data"/> at <paramref name="dataStart"/>, hashing each chunk when asked.</summary>
    private static DecodedXorbRange DecodeRange(XetHash xorb, XorbRangeDescriptor descriptor, byte[] raw, int source, int[] rangeEnds,
        byte[] data, int dataStart, bool hash)
    {
        var hashes = hash ? new XetHash[rangeEnds.Length] : null;
        var end = source + (int)descriptor.Length;
        var at = source;
        var written = 0;
        for (var i = 0; i < rangeEnds.Length; i++)
        {
            var expectedLength = rangeEnds[i] - written;
            // Source and output may overlap in place; XorbChunkCodec reads a stored or BG4 chunk whole before
            // writing, and the header walk kept every LZ4 output clear of its frame.
            var length = XorbChunkCodec.Decode(new ReadOnlySpan<byte>(raw, at, end - at),
                data.AsSpan(dataStart + written, expectedLength), out var consumed);
            if (length != expectedLength)
                throw new XorbFormatException($"Chunk {descriptor.Chunks.Start + i} of xorb {xorb} decoded to {length} bytes, its header says {expectedLength}.");
            if (hashes is not null) hashes[i] = XetHashing.ChunkHash(data.AsSpan(dataStart + written, length));
            at += consumed;
            written += length;
        }
        return new DecodedXorbRange(descriptor.Chunks, data, dataStart, rangeEnds, hashes);
    }
}
