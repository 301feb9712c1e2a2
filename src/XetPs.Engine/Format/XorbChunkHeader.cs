using System;

namespace XetPs.Format;

/// <summary>
/// The 8-byte header in front of every chunk of a xorb (§3.2): version u8 (0), compressed length u24 LE, scheme u8,
/// uncompressed length u24 LE. Invariant: a header that exists (constructed or read) is within the protocol limits,
/// so a reader can size buffers from it without further checks.
/// </summary>
public readonly struct XorbChunkHeader
{
    public const int Size = 8, MaxCompressedLength = 262144, MaxUncompressedLength = 131072;

    /// <summary>The first 7 bytes of the xorb footer; a reader that sees them where a header belongs ran off the chunks.</summary>
    private static ReadOnlySpan<byte> FooterIdent => "XETBLOB"u8;

    public XorbChunkHeader(CompressionScheme scheme, int compressedLength, int uncompressedLength)
    {
        if (!IsKnown(scheme))
            throw new ArgumentOutOfRangeException(nameof(scheme), scheme, "Only None, Lz4 and ByteGrouping4Lz4 are serialized.");
        if ((uint)compressedLength > MaxCompressedLength)
            throw new ArgumentOutOfRangeException(nameof(compressedLength), compressedLength, $"Must be 0..{MaxCompressedLength}.");
        if ((uint)uncompressedLength > MaxUncompressedLength)
            throw new ArgumentOutOfRangeException(nameof(uncompressedLength), uncompressedLength, $"Must be 0..{MaxUncompressedLength}.");
        Version = 0;
        Scheme = scheme;
        CompressedLength = compressedLength;
        UncompressedLength = uncompressedLength;
    }

    public byte Version { get; }
    public CompressionScheme Scheme { get; }
    public int CompressedLength { get; }
    public int UncompressedLength { get; }

    /// <summary>Reads and validates the header at the start of <paramref name="source"/>.</summary>
    public static XorbChunkHeader Read(ReadOnlySpan<byte> source)
    {
        if (source.Length < Size)
            throw new XorbFormatException($"Truncated xorb chunk header: {source.Length} of {Size} bytes.");
        if (source.Slice(0, FooterIdent.Length).SequenceEqual(FooterIdent))
            throw new XorbFormatException("Expected a xorb chunk header but found the xorb footer (\"XETBLOB\").");
        byte version = source[0];
        if (version > 0)
            throw new XorbFormatException($"Unsupported xorb chunk header version {version} (only 0 is defined).");
        int compressed = source[1] | source[2] << 8 | source[3] << 16;
        var scheme = (CompressionScheme)source[4];
        int uncompressed = source[5] | source[6] << 8 | source[7] << 16;
        if (!IsKnown(scheme))
            throw new XorbFormatException($"Unknown xorb chunk compression scheme {source[4]}.");
        if (compressed > MaxCompressedLength)
            throw new XorbFormatException($"Xorb chunk compressed length {compressed} exceeds the limit {MaxCompressedLength}.");
        if (uncompressed > MaxUncompressedLength)
            throw new XorbFormatException($"Xorb chunk uncompressed length {uncompressed} exceeds the limit {MaxUncompressedLength}.");
        return new XorbChunkHeader(scheme, compressed, uncompressed);
    }

    public void Write(Span<byte> destination)
    {
        if (destination.Length < Size)
            throw new ArgumentException($"A chunk header needs {Size} bytes, the destination has {destination.Length}.", nameof(destination));
        destination[0] = Version;
        destination[1] = (byte)CompressedLength;
        destination[2] = (byte)(CompressedLength >> 8);
        destination[3] = (byte)(CompressedLength >> 16);
        destination[4] = (byte)Scheme;
        destination[5] = (byte)UncompressedLength;
        destination[6] = (byte)(UncompressedLength >> 8);
        destination[7] = (byte)(UncompressedLength >> 16);
    }

    internal static bool IsKnown(CompressionScheme scheme) =>
        scheme is CompressionScheme.None or CompressionScheme.Lz4 or CompressionScheme.ByteGrouping4Lz4;

    public override string ToString() => $"{Scheme} {CompressedLength} -> {UncompressedLength}";
}
