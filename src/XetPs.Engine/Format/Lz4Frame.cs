using System;
using System.Buffers.Binary;
using K4os.Compression.LZ4;

namespace XetPs.Format;

/// <summary>
/// The LZ4 frame format (lz4 spec "LZ4 Frame Format Description" 1.6.x) around K4os's block codec: what xorb
/// chunks of scheme Lz4 and ByteGrouping4Lz4 hold (§3.3). Decoding writes straight into the caller's span and
/// allocates nothing; linked blocks use the output already written as their dictionary.
/// Invariant: every length read from the frame is checked against the input left and the output room before use,
/// so malformed frames end in <see cref="XorbFormatException"/>, never in an out-of-range access.
/// </summary>
internal static class Lz4Frame
{
    public const uint Magic = 0x184D2204;
    private const uint SkippableMagicMask = 0xFFFFFFF0, SkippableMagic = 0x184D2A50;
    private const int WindowSize = 65536;

    /// <summary>Block size our encoder declares (BD 4 = 64 KiB), the default of lz4_flex and of the lz4 CLI.</summary>
    private const int EncodeBlockSize = 65536;

    /// <summary>Header (magic, FLG, BD, HC) + per-block size words + end mark, on top of the stored bytes.</summary>
    public static int MaxFrameLength(int rawLength) => 7 + 4 * ((rawLength + EncodeBlockSize - 1) / EncodeBlockSize) + rawLength + 4;

    /// <summary>
    /// Decodes every frame in <paramref name="source"/> (concatenated frames and skippable frames are allowed, as in
    /// the reference decoder) into <paramref name="destination"/>. Returns the bytes written.
    /// </summary>
    public static int Decode(ReadOnlySpan<byte> source, Span<byte> destination)
    {
        if (source.Length == 0)
            throw new XorbFormatException("Empty LZ4 frame.");
        int pos = 0, written = 0;
        while (pos < source.Length)
        {
            uint magic = ReadU32(source, ref pos, "frame magic");
            if ((magic & SkippableMagicMask) == SkippableMagic)
            {
                uint skip = ReadU32(source, ref pos, "skippable frame size");
                if (skip > (uint)(source.Length - pos))
                    throw Truncated("skippable frame", pos, source.Length);
                pos += (int)skip;
                continue;
            }
            if (magic != Magic)
                throw new XorbFormatException($"Not an LZ4 frame: magic 0x{magic:X8} at offset {pos - 4}, expected 0x{Magic:X8}.");
            written = DecodeFrame(source, ref pos, destination, written);
        }
        return written;
    }

    private static int DecodeFrame(ReadOnlySpan<byte> source, ref int pos, Span<byte> destination, int written)
    {
        var frame = ReadDescriptor(source, ref pos);
        int frameStart = written;
        while (true)
        {
            uint word = ReadU32(source, ref pos, "block size");
            if (word == 0)
                break;
            written += DecodeBlock(source, ref pos, destination, written, frameStart, frame, word);
        }

        if (frame.ContentChecksum)
        {
            uint expected = ReadU32(source, ref pos, "content checksum");
            if (XxHash32.Hash(destination.Slice(frameStart, written - frameStart)) != expected)
                throw new XorbFormatException("LZ4 frame content checksum mismatch.");
        }
        if (frame.HasContentSize && frame.ContentSize != (ulong)(written - frameStart))
            throw new XorbFormatException($"LZ4 frame declares {frame.ContentSize} bytes but holds {written - frameStart}.");
        return written;
    }

    /// <summary>What a frame's descriptor (FLG, BD, optional content size and dictionary id, header checksum) says.</summary>
    private readonly record struct FrameDescriptor(bool Independent, bool BlockChecksum, bool HasContentSize, bool ContentChecksum,
        int MaxBlock, ulong ContentSize);

    private static FrameDescriptor ReadDescriptor(ReadOnlySpan<byte> source, ref int pos)
    {
        int descriptorStart = pos;
        if (source.Length - pos < 3)
            throw Truncated("frame descriptor", pos, source.Length);
        byte flg = source[pos], bd = source[pos + 1];
        if (flg >> 6 != 1)
            throw new XorbFormatException($"LZ4 frame version {flg >> 6} is not supported (only 1 is defined).");
        if ((flg & 0x02) != 0 || (bd & 0x8F) != 0)
            throw new XorbFormatException($"LZ4 frame descriptor has reserved bits set (FLG 0x{flg:X2}, BD 0x{bd:X2}).");
        bool hasContentSize = (flg & 0x08) != 0, hasDictionaryId = (flg & 0x01) != 0;
        int blockSizeId = (bd >> 4) & 7;
        if (blockSizeId < 4)
            throw new XorbFormatException($"LZ4 frame block size id {blockSizeId} is not defined (4..7).");
        int descriptorLength = 2 + (hasContentSize ? 8 : 0) + (hasDictionaryId ? 4 : 0);
        if (source.Length - pos < descriptorLength + 1)
            throw Truncated("frame descriptor", pos, source.Length);
        ulong contentSize = hasContentSize ? BinaryPrimitives.ReadUInt64LittleEndian(source.Slice(pos + 2)) : 0;
        byte expectedHc = (byte)(XxHash32.Hash(source.Slice(descriptorStart, descriptorLength)) >> 8);
        pos += descriptorLength;
        if (source[pos] != expectedHc)
            throw new XorbFormatException($"LZ4 frame header checksum 0x{source[pos]:X2} does not match 0x{expectedHc:X2}.");
        pos++;
        if (hasDictionaryId)
            throw new XorbFormatException("LZ4 frame needs an external dictionary; xorb chunks never use one.");
        return new FrameDescriptor((flg & 0x20) != 0, (flg & 0x10) != 0, hasContentSize, (flg & 0x04) != 0, 1 << (8 + 2 * blockSizeId), contentSize);
    }

    /// <summary>Decodes the block whose size word is <paramref name="word"/> into <paramref name="destination"/> at
    /// <paramref name="written"/>; returns the bytes it decoded to.</summary>
    private static int DecodeBlock(ReadOnlySpan<byte> source, ref int pos, Span<byte> destination, int written, int frameStart,
        FrameDescriptor frame, uint word)
    {
        bool stored = (word & 0x80000000) != 0;
        int size = (int)(word & 0x7FFFFFFF);
        if (size > frame.MaxBlock)
            throw new XorbFormatException($"LZ4 block of {size} bytes exceeds the frame's block size {frame.MaxBlock}.");
        if (source.Length - pos < size + (frame.BlockChecksum ? 4 : 0))
            throw Truncated("block", pos, source.Length);
        ReadOnlySpan<byte> block = source.Slice(pos, size);
        pos += size;
        if (frame.BlockChecksum)
        {
            uint expected = BinaryPrimitives.ReadUInt32LittleEndian(source.Slice(pos));
            pos += 4;
            if (XxHash32.Hash(block) != expected)
                throw new XorbFormatException("LZ4 block checksum mismatch.");
        }
        int room = destination.Length - written;
        if (stored)
        {
            if (size > room)
                throw Overflow(destination.Length);
            block.CopyTo(destination.Slice(written));
            return size;
        }
        if (room == 0)
            throw Overflow(destination.Length);
        Span<byte> target = destination.Slice(written, Math.Min(room, frame.MaxBlock));
        int decoded;
        if (frame.Independent || written == frameStart)
        {
            decoded = LZ4Codec.Decode(block, target);
        }
        else
        {
            // Linked blocks may copy from up to 64 KiB of this frame's earlier output.
            int dictionaryStart = Math.Max(frameStart, written - WindowSize);
            decoded = LZ4Codec.Decode(block, target, destination.Slice(dictionaryStart, written - dictionaryStart));
        }
        if (decoded < 0)
            throw new XorbFormatException(
                $"Corrupt LZ4 block at offset {pos - size} (or it decodes past the chunk's {destination.Length} bytes).");
        return decoded;
    }

    /// <summary>
    /// Encodes <paramref name="raw"/> as one frame: independent 64 KiB blocks, no checksums but the header's, blocks
    /// that do not shrink stored as-is. <paramref name="destination"/> must hold <see cref="MaxFrameLength"/> bytes.
    /// </summary>
    public static int Encode(ReadOnlySpan<byte> raw, Span<byte> destination, LZ4Level level = LZ4Level.L00_FAST)
    {
        if (destination.Length < MaxFrameLength(raw.Length))
            throw new ArgumentException($"An LZ4 frame of {raw.Length} bytes needs {MaxFrameLength(raw.Length)} bytes of room.", nameof(destination));
        BinaryPrimitives.WriteUInt32LittleEndian(destination, Magic);
        destination[4] = 0x60; // version 01, independent blocks
        destination[5] = 0x40; // 64 KiB blocks
        destination[6] = (byte)(XxHash32.Hash(destination.Slice(4, 2)) >> 8);
        int pos = 7;
        for (int offset = 0; offset < raw.Length; offset += EncodeBlockSize)
        {
            ReadOnlySpan<byte> block = raw.Slice(offset, Math.Min(EncodeBlockSize, raw.Length - offset));
            // A target one byte short of the block makes the encoder give up (<= 0) as soon as it cannot shrink it;
            // blocks this small never shrink (LZ4 ends every block with at least 5 literals).
            int encoded = block.Length > 16 ? LZ4Codec.Encode(block, destination.Slice(pos + 4, block.Length - 1), level) : 0;
            if (encoded > 0)
            {
                BinaryPrimitives.WriteUInt32LittleEndian(destination.Slice(pos), (uint)encoded);
            }
            else
            {
                BinaryPrimitives.WriteUInt32LittleEndian(destination.Slice(pos), 0x80000000u | (uint)block.Length);
                block.CopyTo(destination.Slice(pos + 4));
                encoded = block.Length;
            }
            pos += 4 + encoded;
        }
        BinaryPrimitives.WriteUInt32LittleEndian(destination.Slice(pos), 0);
        return pos + 4;
    }

    private static uint ReadU32(ReadOnlySpan<byte> source, ref int pos, string what)
    {
        if (source.Length - pos < 4)
            throw Truncated(what, pos, source.Length);
        uint value = BinaryPrimitives.ReadUInt32LittleEndian(source.Slice(pos));
        pos += 4;
        return value;
    }

    private static XorbFormatException Truncated(string what, int pos, int length) =>
        new($"Truncated LZ4 frame: the {what} at offset {pos} runs past the end of the {length}-byte chunk data.");

    private static XorbFormatException Overflow(int capacity) =>
        new($"LZ4 frame decodes to more than the chunk header's uncompressed length {capacity}.");
}
