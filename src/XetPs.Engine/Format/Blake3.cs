using System;
using System.Buffers;
using System.Runtime.CompilerServices;

namespace XetPs.Format;

/// <summary>
/// BLAKE3 in its hash and keyed_hash modes, with extended output, written for Xet's chunk, node and file hashes
/// (PROTOCOL.md §5.2). The input is split into 1 KiB chunks; each chunk's chaining value is computed (several at
/// once on net8.0, see Blake3.Simd.cs), then parents are merged level by level, pairing left to right and carrying
/// an odd node up. That pairing gives the same left-complete tree as the BLAKE3 spec (every left subtree holds a
/// power of two chunks), so both paths give identical results; the last merge or the single chunk is the root,
/// whose output is extended by re-compressing with an output block counter.
/// </summary>
public static partial class Blake3
{
    public const int KeySize = 32, OutLen = 32;

    internal const int BlockLen = 64, ChunkLen = 1024;
    internal const uint ChunkStart = 1, ChunkEnd = 2, Parent = 4, Root = 8, KeyedHashFlag = 16;

    internal static readonly uint[] IV =
    {
        0x6A09E667, 0xBB67AE85, 0x3C6EF372, 0xA54FF53A, 0x510E527F, 0x9B05688C, 0x1F83D9AB, 0x5BE0CD19,
    };

    public static XetHash Hash(ReadOnlySpan<byte> input)
    {
        Span<byte> output = stackalloc byte[OutLen];
        Hash(input, output);
        return new XetHash(output);
    }

    public static XetHash KeyedHash(ReadOnlySpan<byte> key, ReadOnlySpan<byte> input)
    {
        Span<byte> output = stackalloc byte[OutLen];
        KeyedHash(key, input, output);
        return new XetHash(output);
    }

    /// <summary>Unkeyed BLAKE3 with extended output: fills all of <paramref name="output"/>.</summary>
    public static void Hash(ReadOnlySpan<byte> input, Span<byte> output) => Hash(input, output, int.MaxValue);

    /// <summary>Keyed BLAKE3 with extended output: fills all of <paramref name="output"/>.</summary>
    public static void KeyedHash(ReadOnlySpan<byte> key, ReadOnlySpan<byte> input, Span<byte> output) =>
        KeyedHash(key, input, output, int.MaxValue);

    /// <summary>Test and benchmark seam: <paramref name="forceScalar"/> bypasses the SIMD path.</summary>
    internal static void Hash(ReadOnlySpan<byte> input, Span<byte> output, bool forceScalar) =>
        Hash(input, output, forceScalar ? 1 : int.MaxValue);

    internal static void KeyedHash(ReadOnlySpan<byte> key, ReadOnlySpan<byte> input, Span<byte> output, bool forceScalar) =>
        KeyedHash(key, input, output, forceScalar ? 1 : int.MaxValue);

    /// <summary>Test seam: hashes with at most <paramref name="maxLanes"/> SIMD lanes (1 = scalar), so every
    /// narrower path the machine supports can be checked in one process.</summary>
    internal static unsafe void Hash(ReadOnlySpan<byte> input, Span<byte> output, int maxLanes)
    {
        uint* key = stackalloc uint[8];
        for (int i = 0; i < 8; i++) key[i] = IV[i];
        Compute(key, 0, input, output, maxLanes);
    }

    internal static unsafe void KeyedHash(ReadOnlySpan<byte> key, ReadOnlySpan<byte> input, Span<byte> output, int maxLanes)
    {
        if (key.Length != KeySize)
            throw new ArgumentException($"A BLAKE3 key is exactly {KeySize} bytes; got {key.Length}.", nameof(key));
        uint* keyWords = stackalloc uint[8];
        for (int i = 0; i < 8; i++)
            keyWords[i] = (uint)(key[4 * i] | key[4 * i + 1] << 8 | key[4 * i + 2] << 16 | key[4 * i + 3] << 24);
        Compute(keyWords, KeyedHashFlag, input, output, maxLanes);
    }

    /// <summary>How many chunks the SIMD path hashes at once on this machine (1 when there is no SIMD path).</summary>
    internal static int SimdLanes => SimdDegree();

    private static unsafe void Compute(uint* key, uint flags, ReadOnlySpan<byte> input, Span<byte> output, int maxLanes)
    {
        int lanes = Math.Min(maxLanes, SimdDegree());
        uint* rootCv = stackalloc uint[8];
        uint* rootBlock = stackalloc uint[16];
        uint rootBlockLen, rootFlags;
        fixed (byte* inp = input)
        {
            int len = input.Length;
            if (len <= ChunkLen)
            {
                // A single chunk is the root: chain all blocks but the last, which becomes the root output.
                for (int i = 0; i < 8; i++) rootCv[i] = key[i];
                int blocks = len == 0 ? 1 : (len + BlockLen - 1) / BlockLen;
                for (int b = 0; b < blocks - 1; b++)
                {
                    LoadWords(inp + b * BlockLen, BlockLen, rootBlock);
                    Compress(rootCv, rootBlock, 0, BlockLen, flags | (b == 0 ? ChunkStart : 0), rootCv);
                }
                int last = len - (blocks - 1) * BlockLen;
                LoadWords(inp + (blocks - 1) * BlockLen, last, rootBlock);
                rootBlockLen = (uint)last;
                rootFlags = flags | ChunkEnd | (blocks == 1 ? ChunkStart : 0);
            }
            else
            {
                MerkleRoot(key, flags, inp, len, lanes, rootBlock);
                for (int i = 0; i < 8; i++) rootCv[i] = key[i];
                rootBlockLen = BlockLen;
                rootFlags = flags | Parent;
            }
        }
        WriteRootOutput(rootCv, rootBlock, rootBlockLen, rootFlags | Root, output);
    }

    /// <summary>
    /// Reduces an input of more than one chunk to the two chaining values of the root parent, written to
    /// <paramref name="rootBlock"/> (16 words). Chaining values live in one buffer: level k+1 overwrites the front
    /// of level k, which is safe because parent i reads bytes [64i, 64i+64) before writing [32i, 32i+32).
    /// </summary>
    private static unsafe void MerkleRoot(uint* key, uint flags, byte* input, int len, int lanes, uint* rootBlock)
    {
        int fullChunks = len / ChunkLen;
        int chunks = (len + ChunkLen - 1) / ChunkLen;
        int cvBytes = chunks * 32;
        byte[]? rented = null;
        // 32 bytes per KiB of input: small inputs stay on the stack, large ones borrow from the pool.
        Span<byte> cvSpace = cvBytes <= 8192 ? stackalloc byte[cvBytes] : (rented = ArrayPool<byte>.Shared.Rent(cvBytes));
        try
        {
            fixed (byte* cvs = cvSpace)
            {
                int done = HashManyChunks(key, flags, input, fullChunks, lanes, cvs);
                for (int c = done; c < chunks; c++)
                {
                    int clen = Math.Min(ChunkLen, len - c * ChunkLen);
                    ChunkChainingValue(key, flags, input + c * ChunkLen, clen, (ulong)c, (uint*)(cvs + c * 32));
                }

                int count = chunks;
                uint* block = stackalloc uint[16];
                uint* cv = stackalloc uint[8];
                while (count > 2)
                {
                    int pairs = count / 2;
                    int merged = HashManyParents(key, flags, cvs, pairs, lanes);
                    for (int p = merged; p < pairs; p++)
                    {
                        LoadWords(cvs + p * 64, BlockLen, block);
                        for (int i = 0; i < 8; i++) cv[i] = key[i];
                        Compress(cv, block, 0, BlockLen, flags | Parent, (uint*)(cvs + p * 32));
                    }
                    if ((count & 1) != 0)
                    {
                        // The odd node is carried up unchanged; it moves left, never over an unread node.
                        ulong* src = (ulong*)(cvs + (count - 1) * 32);
                        ulong* dst = (ulong*)(cvs + pairs * 32);
                        ulong a = src[0], b = src[1], c = src[2], d = src[3];
                        dst[0] = a; dst[1] = b; dst[2] = c; dst[3] = d;
                    }
                    count = pairs + (count & 1);
                }
                LoadWords(cvs, BlockLen, rootBlock);
            }
        }
        finally
        {
            if (rented is not null) ArrayPool<byte>.Shared.Return(rented);
        }
    }

    /// <summary>The chaining value of one non-root chunk (0..1024 bytes) at position <paramref name="counter"/>.</summary>
    internal static unsafe void ChunkChainingValue(uint* key, uint flags, byte* chunk, int len, ulong counter, uint* outCv)
    {
        uint* cv = stackalloc uint[8];
        uint* block = stackalloc uint[16];
        for (int i = 0; i < 8; i++) cv[i] = key[i];
        int blocks = len == 0 ? 1 : (len + BlockLen - 1) / BlockLen;
        for (int b = 0; b < blocks; b++)
        {
            int blen = b < blocks - 1 ? BlockLen : len - b * BlockLen;
            LoadWords(chunk + b * BlockLen, blen, block);
            uint f = flags | (b == 0 ? ChunkStart : 0) | (b == blocks - 1 ? ChunkEnd : 0);
            Compress(cv, block, counter, (uint)blen, f, b == blocks - 1 ? outCv : cv);
        }
    }

    private static unsafe void WriteRootOutput(uint* cv, uint* block, uint blockLen, uint flags, Span<byte> output)
    {
        uint* words = stackalloc uint[16];
        byte* bytes = stackalloc byte[64];
        ulong counter = 0;
        for (int offset = 0; offset < output.Length; offset += 64, counter++)
        {
            CompressXof(cv, block, counter, blockLen, flags, words);
            for (int i = 0; i < 16; i++)
            {
                uint w = words[i];
                bytes[4 * i] = (byte)w; bytes[4 * i + 1] = (byte)(w >> 8);
                bytes[4 * i + 2] = (byte)(w >> 16); bytes[4 * i + 3] = (byte)(w >> 24);
            }
            int n = Math.Min(64, output.Length - offset);
            new ReadOnlySpan<byte>(bytes, n).CopyTo(output.Slice(offset));
        }
    }

    /// <summary>Reads <paramref name="len"/> (0..64) little-endian bytes as 16 words, zero-padding the rest.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static unsafe void LoadWords(byte* src, int len, uint* words)
    {
        if (len == BlockLen && BitConverter.IsLittleEndian)
        {
            Buffer.MemoryCopy(src, words, 64, 64);
            return;
        }
        for (int i = 0; i < 16; i++)
        {
            uint w = 0;
            for (int j = 0; j < 4; j++)
            {
                int p = 4 * i + j;
                if (p < len) w |= (uint)src[p] << (8 * j);
            }
            words[i] = w;
        }
    }
}
