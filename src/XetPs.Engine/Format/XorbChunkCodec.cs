using System;

namespace XetPs.Format;

/// <summary>
/// Decodes and encodes one xorb chunk, header and data (§3.2, §3.3). Decoding allocates nothing per chunk: LZ4
/// frames decode straight into the caller's span, and BG4 goes through one reusable scratch buffer per thread.
/// Invariant: <see cref="Decode"/> either writes exactly the header's uncompressed length or throws
/// <see cref="XorbFormatException"/>; bytes from the network never cause an out-of-range access.
/// </summary>
public static class XorbChunkCodec
{
    /// <summary>Per-thread scratch for the grouped bytes of a BG4 chunk (decode) or chunk (encode); 128 KiB each.</summary>
    [ThreadStatic] private static byte[]? t_scratch;

    private static byte[] Scratch => t_scratch ??= new byte[Lz4Frame.MaxFrameLength(XorbChunkHeader.MaxUncompressedLength)];

    /// <summary>
    /// Decodes the chunk at the start of <paramref name="source"/> (header + data) into <paramref name="destination"/>,
    /// which must hold the header's uncompressed length. Returns that length; <paramref name="consumed"/> =
    /// 8 + compressed length. The two may overlap (in-place decoding of a xorb load): a stored chunk is moved with
    /// memmove semantics and a BG4 chunk is read whole into scratch before its output is written; an LZ4 chunk's
    /// output must end before its frame's bytes (after the header), which the caller ensures.
    /// </summary>
    public static int Decode(ReadOnlySpan<byte> source, Span<byte> destination, out int consumed)
    {
        var header = XorbChunkHeader.Read(source);
        int compressed = header.CompressedLength, length = header.UncompressedLength;
        if (source.Length - XorbChunkHeader.Size < compressed)
            throw new XorbFormatException(
                $"Truncated xorb chunk data: the header announces {compressed} bytes, {source.Length - XorbChunkHeader.Size} are present.");
        if (destination.Length < length)
            throw new ArgumentException(
                $"The destination holds {destination.Length} bytes, the chunk decodes to {length}.", nameof(destination));
        ReadOnlySpan<byte> data = source.Slice(XorbChunkHeader.Size, compressed);
        Span<byte> target = destination.Slice(0, length);
        int decoded;
        switch (header.Scheme)
        {
            case CompressionScheme.None:
                if (compressed != length)
                    throw new XorbFormatException(
                        $"Uncompressed xorb chunk has {compressed} stored bytes but its header says {length}.");
                data.CopyTo(target);
                decoded = length;
                break;
            case CompressionScheme.Lz4:
                decoded = Lz4Frame.Decode(data, target);
                break;
            default: // ByteGrouping4Lz4; Read rejected every other value
                Span<byte> grouped = Scratch.AsSpan(0, length);
                decoded = Lz4Frame.Decode(data, grouped);
                if (decoded == length)
                    ByteGrouping4.Regroup(grouped, target);
                break;
        }
        if (decoded != length)
            throw new XorbFormatException(
                $"Xorb chunk is corrupted: it decodes to {decoded} bytes but its header says {length} ({header.Scheme}).");
        consumed = XorbChunkHeader.Size + compressed;
        return length;
    }

    /// <summary>Room <see cref="Encode"/> needs for a chunk of <paramref name="rawLength"/> bytes, header included.</summary>
    public static int MaxEncodedLength(int rawLength)
    {
        if ((uint)rawLength > XorbChunkHeader.MaxUncompressedLength)
            throw new ArgumentOutOfRangeException(nameof(rawLength), rawLength, $"A chunk holds 0..{XorbChunkHeader.MaxUncompressedLength} bytes.");
        return XorbChunkHeader.Size + Lz4Frame.MaxFrameLength(rawLength);
    }

    /// <summary>
    /// Encodes one chunk (header + data) with the writer rule of §3.2: stored as None when compression does not
    /// make it smaller than the raw bytes. Returns the bytes written to <paramref name="destination"/>.
    /// </summary>
    public static int Encode(ReadOnlySpan<byte> raw, CompressionScheme preferred, Span<byte> destination)
    {
        if (!XorbChunkHeader.IsKnown(preferred))
            throw new ArgumentOutOfRangeException(nameof(preferred), preferred, "Only None, Lz4 and ByteGrouping4Lz4 can be written.");
        int needed = MaxEncodedLength(raw.Length);
        if (destination.Length < needed)
            throw new ArgumentException($"Encoding {raw.Length} bytes needs {needed} bytes of room, the destination has {destination.Length}.", nameof(destination));
        Span<byte> body = destination.Slice(XorbChunkHeader.Size);
        int compressed = -1;
        if (preferred == CompressionScheme.Lz4)
        {
            compressed = Lz4Frame.Encode(raw, body);
        }
        else if (preferred == CompressionScheme.ByteGrouping4Lz4)
        {
            Span<byte> grouped = Scratch.AsSpan(0, raw.Length);
            ByteGrouping4.Split(raw, grouped);
            compressed = Lz4Frame.Encode(grouped, body);
        }
        var scheme = preferred;
        if (compressed < 0 || compressed >= raw.Length)
        {
            raw.CopyTo(body);
            compressed = raw.Length;
            scheme = CompressionScheme.None;
        }
        new XorbChunkHeader(scheme, compressed, raw.Length).Write(destination);
        return XorbChunkHeader.Size + compressed;
    }

    /// <summary>BG4 for float-like data (per <see cref="Bg4Predictor"/>, xet-core's popcount test), else LZ4.</summary>
    public static CompressionScheme ChooseScheme(ReadOnlySpan<byte> raw) =>
        Bg4Predictor.Recommends(raw) ? CompressionScheme.ByteGrouping4Lz4 : CompressionScheme.Lz4;
}
