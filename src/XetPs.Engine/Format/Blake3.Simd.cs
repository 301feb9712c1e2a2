#if NET8_0_OR_GREATER
using System;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
#endif

namespace XetPs.Format;

// The wide path ("hash_many"): N independent inputs of the same block count are compressed together, one input
// per vector lane, so one vector instruction advances N compressions. Used for full 1 KiB chunks (16 blocks each)
// and for parent nodes (one 64-byte block each, read straight from the chaining-value buffer). Message words are
// transposed from per-input rows into per-word vectors on the way in, and chaining values transposed back out.
public static partial class Blake3
{
#if NET8_0_OR_GREATER
    private static int SimdDegree() =>
        Avx512F.IsSupported && Vector512.IsHardwareAccelerated ? 16
        : Avx2.IsSupported && Vector256.IsHardwareAccelerated ? 8 : Vector128.IsHardwareAccelerated ? 4 : 1;

    /// <summary>Hashes the leading full chunks in groups of <paramref name="lanes"/>; returns how many it hashed.</summary>
    /// <remarks>
    /// A pass costs about the same at every width (one chunk's 16 blocks, lanes side by side), so the widest width the
    /// input fills is used throughout, and the full chunks left after its groups take one more pass of that width over
    /// the last <c>width</c> full chunks: it hashes some chunks a second time, to the same chaining values, where
    /// narrower groups would take one to three passes (a Xet chunk is ~64 full chunks, so its leftovers were a third
    /// of its hash time).
    /// </remarks>
    private static unsafe int HashManyChunks(uint* key, uint flags, byte* input, int fullChunks, int lanes, byte* cvs)
    {
        int width = lanes >= 16 && fullChunks >= 16 ? 16 : lanes >= 8 && fullChunks >= 8 ? 8 : lanes >= 4 && fullChunks >= 4 ? 4 : 0;
        if (width > 0)
        {
            int done = 0;
            for (; done + width <= fullChunks; done += width)
                HashChunkGroup(width, input + done * ChunkLen, key, (ulong)done, flags, cvs + done * 32);
            if (done < fullChunks)
            {
                int first = fullChunks - width;
                HashChunkGroup(width, input + first * ChunkLen, key, (ulong)first, flags, cvs + first * 32);
            }
            return fullChunks;
        }
        if (lanes >= 4 && fullChunks > 0)
        {
            // One to three full chunks in all: one 4-lane pass over a zero-padded copy (the padding lanes' values
            // are dropped) costs less than 16 scalar compressions per chunk.
            byte* padded = stackalloc byte[4 * ChunkLen];
            new Span<byte>(padded, 4 * ChunkLen).Clear();
            Buffer.MemoryCopy(input, padded, 4 * ChunkLen, fullChunks * ChunkLen);
            byte* lanesOut = stackalloc byte[4 * 32];
            HashMany4(padded, ChunkLen, 16, key, 0, true, flags, ChunkStart, ChunkEnd, lanesOut);
            Buffer.MemoryCopy(lanesOut, cvs, fullChunks * 32, fullChunks * 32);
            return fullChunks;
        }
        return 0;
    }

    /// <summary><paramref name="width"/> consecutive full chunks from chunk <paramref name="counter"/> on, one lane each.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)] // per Xet chunk: quick-jitted code here showed in perf
    private static unsafe void HashChunkGroup(int width, byte* input, uint* key, ulong counter, uint flags, byte* cvs)
    {
        if (width == 16) HashMany16(input, ChunkLen, 16, key, counter, true, flags, ChunkStart, ChunkEnd, cvs);
        else if (width == 8) HashMany8(input, ChunkLen, 16, key, counter, true, flags, ChunkStart, ChunkEnd, cvs);
        else HashMany4(input, ChunkLen, 16, key, counter, true, flags, ChunkStart, ChunkEnd, cvs);
    }

    /// <summary>Merges the leading parent pairs of a level in place; returns how many parents it produced.</summary>
    private static unsafe int HashManyParents(uint* key, uint flags, byte* cvs, int pairs, int lanes)
    {
        int done = 0;
        if (lanes >= 16)
            for (; done + 16 <= pairs; done += 16)
                HashMany16(cvs + done * 64, 64, 1, key, 0, false, flags | Parent, 0, 0, cvs + done * 32);
        if (lanes >= 8)
            for (; done + 8 <= pairs; done += 8)
                HashMany8(cvs + done * 64, 64, 1, key, 0, false, flags | Parent, 0, 0, cvs + done * 32);
        if (lanes >= 4)
            for (; done + 4 <= pairs; done += 4)
                HashMany4(cvs + done * 64, 64, 1, key, 0, false, flags | Parent, 0, 0, cvs + done * 32);
        return done;
    }

    // Eight inputs at input + j*stride, each `blocks` blocks long; writes eight 32-byte chaining values to output.
    // Every block of the group is loaded before any output is stored, so output may overlap the inputs' front.
    // Fully optimized from the first call: a tier-0 body of this kernel (no inlining, vectors spilled) is many
    // times slower and hashes the first hundreds of MB of a download before tiering replaces it.
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static unsafe void HashMany8(byte* input, int stride, int blocks, uint* key, ulong counter, bool increment,
        uint flags, uint flagsStart, uint flagsEnd, byte* output)
    {
        var h0 = Vector256.Create(key[0]); var h1 = Vector256.Create(key[1]);
        var h2 = Vector256.Create(key[2]); var h3 = Vector256.Create(key[3]);
        var h4 = Vector256.Create(key[4]); var h5 = Vector256.Create(key[5]);
        var h6 = Vector256.Create(key[6]); var h7 = Vector256.Create(key[7]);
        Vector256<uint> ctrLo, ctrHi;
        if (increment)
        {
            ulong c = counter;
            ctrLo = Vector256.Create((uint)c, (uint)(c + 1), (uint)(c + 2), (uint)(c + 3), (uint)(c + 4), (uint)(c + 5), (uint)(c + 6), (uint)(c + 7));
            ctrHi = Vector256.Create((uint)(c >> 32), (uint)((c + 1) >> 32), (uint)((c + 2) >> 32), (uint)((c + 3) >> 32),
                (uint)((c + 4) >> 32), (uint)((c + 5) >> 32), (uint)((c + 6) >> 32), (uint)((c + 7) >> 32));
        }
        else
        {
            ctrLo = Vector256.Create((uint)counter);
            ctrHi = Vector256.Create((uint)(counter >> 32));
        }
        var blockLenV = Vector256.Create((uint)BlockLen);
        for (int b = 0; b < blocks; b++)
        {
            byte* p = input + b * BlockLen;
            var m0 = Vector256.Load((uint*)p); var m1 = Vector256.Load((uint*)(p + stride));
            var m2 = Vector256.Load((uint*)(p + 2 * stride)); var m3 = Vector256.Load((uint*)(p + 3 * stride));
            var m4 = Vector256.Load((uint*)(p + 4 * stride)); var m5 = Vector256.Load((uint*)(p + 5 * stride));
            var m6 = Vector256.Load((uint*)(p + 6 * stride)); var m7 = Vector256.Load((uint*)(p + 7 * stride));
            Transpose8(ref m0, ref m1, ref m2, ref m3, ref m4, ref m5, ref m6, ref m7);
            p += 32;
            var m8 = Vector256.Load((uint*)p); var m9 = Vector256.Load((uint*)(p + stride));
            var m10 = Vector256.Load((uint*)(p + 2 * stride)); var m11 = Vector256.Load((uint*)(p + 3 * stride));
            var m12 = Vector256.Load((uint*)(p + 4 * stride)); var m13 = Vector256.Load((uint*)(p + 5 * stride));
            var m14 = Vector256.Load((uint*)(p + 6 * stride)); var m15 = Vector256.Load((uint*)(p + 7 * stride));
            Transpose8(ref m8, ref m9, ref m10, ref m11, ref m12, ref m13, ref m14, ref m15);

            uint f = flags | (b == 0 ? flagsStart : 0) | (b == blocks - 1 ? flagsEnd : 0);
            Vector256<uint> v0 = h0, v1 = h1, v2 = h2, v3 = h3, v4 = h4, v5 = h5, v6 = h6, v7 = h7;
            var v8 = Vector256.Create(0x6A09E667u); var v9 = Vector256.Create(0xBB67AE85u);
            var v10 = Vector256.Create(0x3C6EF372u); var v11 = Vector256.Create(0xA54FF53Au);
            var v12 = ctrLo; var v13 = ctrHi; var v14 = blockLenV; var v15 = Vector256.Create(f);
            // round 0
            v0 = v0 + v4 + m0; v12 = Rotr16(v12 ^ v0); v8 = v8 + v12; v4 = Rotr12(v4 ^ v8);
            v0 = v0 + v4 + m1; v12 = Rotr8(v12 ^ v0); v8 = v8 + v12; v4 = Rotr7(v4 ^ v8);
            v1 = v1 + v5 + m2; v13 = Rotr16(v13 ^ v1); v9 = v9 + v13; v5 = Rotr12(v5 ^ v9);
            v1 = v1 + v5 + m3; v13 = Rotr8(v13 ^ v1); v9 = v9 + v13; v5 = Rotr7(v5 ^ v9);
            v2 = v2 + v6 + m4; v14 = Rotr16(v14 ^ v2); v10 = v10 + v14; v6 = Rotr12(v6 ^ v10);
            v2 = v2 + v6 + m5; v14 = Rotr8(v14 ^ v2); v10 = v10 + v14; v6 = Rotr7(v6 ^ v10);
            v3 = v3 + v7 + m6; v15 = Rotr16(v15 ^ v3); v11 = v11 + v15; v7 = Rotr12(v7 ^ v11);
            v3 = v3 + v7 + m7; v15 = Rotr8(v15 ^ v3); v11 = v11 + v15; v7 = Rotr7(v7 ^ v11);
            v0 = v0 + v5 + m8; v15 = Rotr16(v15 ^ v0); v10 = v10 + v15; v5 = Rotr12(v5 ^ v10);
            v0 = v0 + v5 + m9; v15 = Rotr8(v15 ^ v0); v10 = v10 + v15; v5 = Rotr7(v5 ^ v10);
            v1 = v1 + v6 + m10; v12 = Rotr16(v12 ^ v1); v11 = v11 + v12; v6 = Rotr12(v6 ^ v11);
            v1 = v1 + v6 + m11; v12 = Rotr8(v12 ^ v1); v11 = v11 + v12; v6 = Rotr7(v6 ^ v11);
            v2 = v2 + v7 + m12; v13 = Rotr16(v13 ^ v2); v8 = v8 + v13; v7 = Rotr12(v7 ^ v8);
            v2 = v2 + v7 + m13; v13 = Rotr8(v13 ^ v2); v8 = v8 + v13; v7 = Rotr7(v7 ^ v8);
            v3 = v3 + v4 + m14; v14 = Rotr16(v14 ^ v3); v9 = v9 + v14; v4 = Rotr12(v4 ^ v9);
            v3 = v3 + v4 + m15; v14 = Rotr8(v14 ^ v3); v9 = v9 + v14; v4 = Rotr7(v4 ^ v9);
            // round 1
            v0 = v0 + v4 + m2; v12 = Rotr16(v12 ^ v0); v8 = v8 + v12; v4 = Rotr12(v4 ^ v8);
            v0 = v0 + v4 + m6; v12 = Rotr8(v12 ^ v0); v8 = v8 + v12; v4 = Rotr7(v4 ^ v8);
            v1 = v1 + v5 + m3; v13 = Rotr16(v13 ^ v1); v9 = v9 + v13; v5 = Rotr12(v5 ^ v9);
            v1 = v1 + v5 + m10; v13 = Rotr8(v13 ^ v1); v9 = v9 + v13; v5 = Rotr7(v5 ^ v9);
            v2 = v2 + v6 + m7; v14 = Rotr16(v14 ^ v2); v10 = v10 + v14; v6 = Rotr12(v6 ^ v10);
            v2 = v2 + v6 + m0; v14 = Rotr8(v14 ^ v2); v10 = v10 + v14; v6 = Rotr7(v6 ^ v10);
            v3 = v3 + v7 + m4; v15 = Rotr16(v15 ^ v3); v11 = v11 + v15; v7 = Rotr12(v7 ^ v11);
            v3 = v3 + v7 + m13; v15 = Rotr8(v15 ^ v3); v11 = v11 + v15; v7 = Rotr7(v7 ^ v11);
            v0 = v0 + v5 + m1; v15 = Rotr16(v15 ^ v0); v10 = v10 + v15; v5 = Rotr12(v5 ^ v10);
            v0 = v0 + v5 + m11; v15 = Rotr8(v15 ^ v0); v10 = v10 + v15; v5 = Rotr7(v5 ^ v10);
            v1 = v1 + v6 + m12; v12 = Rotr16(v12 ^ v1); v11 = v11 + v12; v6 = Rotr12(v6 ^ v11);
            v1 = v1 + v6 + m5; v12 = Rotr8(v12 ^ v1); v11 = v11 + v12; v6 = Rotr7(v6 ^ v11);
            v2 = v2 + v7 + m9; v13 = Rotr16(v13 ^ v2); v8 = v8 + v13; v7 = Rotr12(v7 ^ v8);
            v2 = v2 + v7 + m14; v13 = Rotr8(v13 ^ v2); v8 = v8 + v13; v7 = Rotr7(v7 ^ v8);
            v3 = v3 + v4 + m15; v14 = Rotr16(v14 ^ v3); v9 = v9 + v14; v4 = Rotr12(v4 ^ v9);
            v3 = v3 + v4 + m8; v14 = Rotr8(v14 ^ v3); v9 = v9 + v14; v4 = Rotr7(v4 ^ v9);
            // round 2
            v0 = v0 + v4 + m3; v12 = Rotr16(v12 ^ v0); v8 = v8 + v12; v4 = Rotr12(v4 ^ v8);
            v0 = v0 + v4 + m4; v12 = Rotr8(v12 ^ v0); v8 = v8 + v12; v4 = Rotr7(v4 ^ v8);
            v1 = v1 + v5 + m10; v13 = Rotr16(v13 ^ v1); v9 = v9 + v13; v5 = Rotr12(v5 ^ v9);
            v1 = v1 + v5 + m12; v13 = Rotr8(v13 ^ v1); v9 = v9 + v13; v5 = Rotr7(v5 ^ v9);
            v2 = v2 + v6 + m13; v14 = Rotr16(v14 ^ v2); v10 = v10 + v14; v6 = Rotr12(v6 ^ v10);
            v2 = v2 + v6 + m2; v14 = Rotr8(v14 ^ v2); v10 = v10 + v14; v6 = Rotr7(v6 ^ v10);
            v3 = v3 + v7 + m7; v15 = Rotr16(v15 ^ v3); v11 = v11 + v15; v7 = Rotr12(v7 ^ v11);
            v3 = v3 + v7 + m14; v15 = Rotr8(v15 ^ v3); v11 = v11 + v15; v7 = Rotr7(v7 ^ v11);
            v0 = v0 + v5 + m6; v15 = Rotr16(v15 ^ v0); v10 = v10 + v15; v5 = Rotr12(v5 ^ v10);
            v0 = v0 + v5 + m5; v15 = Rotr8(v15 ^ v0); v10 = v10 + v15; v5 = Rotr7(v5 ^ v10);
            v1 = v1 + v6 + m9; v12 = Rotr16(v12 ^ v1); v11 = v11 + v12; v6 = Rotr12(v6 ^ v11);
            v1 = v1 + v6 + m0; v12 = Rotr8(v12 ^ v1); v11 = v11 + v12; v6 = Rotr7(v6 ^ v11);
            v2 = v2 + v7 + m11; v13 = Rotr16(v13 ^ v2); v8 = v8 + v13; v7 = Rotr12(v7 ^ v8);
            v2 = v2 + v7 + m15; v13 = Rotr8(v13 ^ v2); v8 = v8 + v13; v7 = Rotr7(v7 ^ v8);
            v3 = v3 + v4 + m8; v14 = Rotr16(v14 ^ v3); v9 = v9 + v14; v4 = Rotr12(v4 ^ v9);
            v3 = v3 + v4 + m1; v14 = Rotr8(v14 ^ v3); v9 = v9 + v14; v4 = Rotr7(v4 ^ v9);
            // round 3
            v0 = v0 + v4 + m10; v12 = Rotr16(v12 ^ v0); v8 = v8 + v12; v4 = Rotr12(v4 ^ v8);
            v0 = v0 + v4 + m7; v12 = Rotr8(v12 ^ v0); v8 = v8 + v12; v4 = Rotr7(v4 ^ v8);
            v1 = v1 + v5 + m12; v13 = Rotr16(v13 ^ v1); v9 = v9 + v13; v5 = Rotr12(v5 ^ v9);
            v1 = v1 + v5 + m9; v13 = Rotr8(v13 ^ v1); v9 = v9 + v13; v5 = Rotr7(v5 ^ v9);
            v2 = v2 + v6 + m14; v14 = Rotr16(v14 ^ v2); v10 = v10 + v14; v6 = Rotr12(v6 ^ v10);
            v2 = v2 + v6 + m3; v14 = Rotr8(v14 ^ v2); v10 = v10 + v14; v6 = Rotr7(v6 ^ v10);
            v3 = v3 + v7 + m13; v15 = Rotr16(v15 ^ v3); v11 = v11 + v15; v7 = Rotr12(v7 ^ v11);
            v3 = v3 + v7 + m15; v15 = Rotr8(v15 ^ v3); v11 = v11 + v15; v7 = Rotr7(v7 ^ v11);
            v0 = v0 + v5 + m4; v15 = Rotr16(v15 ^ v0); v10 = v10 + v15; v5 = Rotr12(v5 ^ v10);
            v0 = v0 + v5 + m0; v15 = Rotr8(v15 ^ v0); v10 = v10 + v15; v5 = Rotr7(v5 ^ v10);
            v1 = v1 + v6 + m11; v12 = Rotr16(v12 ^ v1); v11 = v11 + v12; v6 = Rotr12(v6 ^ v11);
            v1 = v1 + v6 + m2; v12 = Rotr8(v12 ^ v1); v11 = v11 + v12; v6 = Rotr7(v6 ^ v11);
            v2 = v2 + v7 + m5; v13 = Rotr16(v13 ^ v2); v8 = v8 + v13; v7 = Rotr12(v7 ^ v8);
            v2 = v2 + v7 + m8; v13 = Rotr8(v13 ^ v2); v8 = v8 + v13; v7 = Rotr7(v7 ^ v8);
            v3 = v3 + v4 + m1; v14 = Rotr16(v14 ^ v3); v9 = v9 + v14; v4 = Rotr12(v4 ^ v9);
            v3 = v3 + v4 + m6; v14 = Rotr8(v14 ^ v3); v9 = v9 + v14; v4 = Rotr7(v4 ^ v9);
            // round 4
            v0 = v0 + v4 + m12; v12 = Rotr16(v12 ^ v0); v8 = v8 + v12; v4 = Rotr12(v4 ^ v8);
            v0 = v0 + v4 + m13; v12 = Rotr8(v12 ^ v0); v8 = v8 + v12; v4 = Rotr7(v4 ^ v8);
            v1 = v1 + v5 + m9; v13 = Rotr16(v13 ^ v1); v9 = v9 + v13; v5 = Rotr12(v5 ^ v9);
            v1 = v1 + v5 + m11; v13 = Rotr8(v13 ^ v1); v9 = v9 + v13; v5 = Rotr7(v5 ^ v9);
            v2 = v2 + v6 + m15; v14 = Rotr16(v14 ^ v2); v10 = v10 + v14; v6 = Rotr12(v6 ^ v10);
            v2 = v2 + v6 + m10; v14 = Rotr8(v14 ^ v2); v10 = v10 + v14; v6 = Rotr7(v6 ^ v10);
            v3 = v3 + v7 + m14; v15 = Rotr16(v15 ^ v3); v11 = v11 + v15; v7 = Rotr12(v7 ^ v11);
            v3 = v3 + v7 + m8; v15 = Rotr8(v15 ^ v3); v11 = v11 + v15; v7 = Rotr7(v7 ^ v11);
            v0 = v0 + v5 + m7; v15 = Rotr16(v15 ^ v0); v10 = v10 + v15; v5 = Rotr12(v5 ^ v10);
            v0 = v0 + v5 + m2; v15 = Rotr8(v15 ^ v0); v10 = v10 + v15; v5 = Rotr7(v5 ^ v10);
            v1 = v1 + v6 + m5; v12 = Rotr16(v12 ^ v1); v11 = v11 + v12; v6 = Rotr12(v6 ^ v11);
            v1 = v1 + v6 + m3; v12 = Rotr8(v12 ^ v1); v11 = v11 + v12; v6 = Rotr7(v6 ^ v11);
            v2 = v2 + v7 + m0; v13 = Rotr16(v13 ^ v2); v8 = v8 + v13; v7 = Rotr12(v7 ^ v8);
            v2 = v2 + v7 + m1; v13 = Rotr8(v13 ^ v2); v8 = v8 + v13; v7 = Rotr7(v7 ^ v8);
            v3 = v3 + v4 + m6; v14 = Rotr16(v14 ^ v3); v9 = v9 + v14; v4 = Rotr12(v4 ^ v9);
            v3 = v3 + v4 + m4; v14 = Rotr8(v14 ^ v3); v9 = v9 + v14; v4 = Rotr7(v4 ^ v9);
            // round 5
            v0 = v0 + v4 + m9; v12 = Rotr16(v12 ^ v0); v8 = v8 + v12; v4 = Rotr12(v4 ^ v8);
            v0 = v0 + v4 + m14; v12 = Rotr8(v12 ^ v0); v8 = v8 + v12; v4 = Rotr7(v4 ^ v8);
            v1 = v1 + v5 + m11; v13 = Rotr16(v13 ^ v1); v9 = v9 + v13; v5 = Rotr12(v5 ^ v9);
            v1 = v1 + v5 + m5; v13 = Rotr8(v13 ^ v1); v9 = v9 + v13; v5 = Rotr7(v5 ^ v9);
            v2 = v2 + v6 + m8; v14 = Rotr16(v14 ^ v2); v10 = v10 + v14; v6 = Rotr12(v6 ^ v10);
            v2 = v2 + v6 + m12; v14 = Rotr8(v14 ^ v2); v10 = v10 + v14; v6 = Rotr7(v6 ^ v10);
            v3 = v3 + v7 + m15; v15 = Rotr16(v15 ^ v3); v11 = v11 + v15; v7 = Rotr12(v7 ^ v11);
            v3 = v3 + v7 + m1; v15 = Rotr8(v15 ^ v3); v11 = v11 + v15; v7 = Rotr7(v7 ^ v11);
            v0 = v0 + v5 + m13; v15 = Rotr16(v15 ^ v0); v10 = v10 + v15; v5 = Rotr12(v5 ^ v10);
            v0 = v0 + v5 + m3; v15 = Rotr8(v15 ^ v0); v10 = v10 + v15; v5 = Rotr7(v5 ^ v10);
            v1 = v1 + v6 + m0; v12 = Rotr16(v12 ^ v1); v11 = v11 + v12; v6 = Rotr12(v6 ^ v11);
            v1 = v1 + v6 + m10; v12 = Rotr8(v12 ^ v1); v11 = v11 + v12; v6 = Rotr7(v6 ^ v11);
            v2 = v2 + v7 + m2; v13 = Rotr16(v13 ^ v2); v8 = v8 + v13; v7 = Rotr12(v7 ^ v8);
            v2 = v2 + v7 + m6; v13 = Rotr8(v13 ^ v2); v8 = v8 + v13; v7 = Rotr7(v7 ^ v8);
            v3 = v3 + v4 + m4; v14 = Rotr16(v14 ^ v3); v9 = v9 + v14; v4 = Rotr12(v4 ^ v9);
            v3 = v3 + v4 + m7; v14 = Rotr8(v14 ^ v3); v9 = v9 + v14; v4 = Rotr7(v4 ^ v9);
            // round 6
            v0 = v0 + v4 + m11; v12 = Rotr16(v12 ^ v0); v8 = v8 + v12; v4 = Rotr12(v4 ^ v8);
            v0 = v0 + v4 + m15; v12 = Rotr8(v12 ^ v0); v8 = v8 + v12; v4 = Rotr7(v4 ^ v8);
            v1 = v1 + v5 + m5; v13 = Rotr16(v13 ^ v1); v9 = v9 + v13; v5 = Rotr12(v5 ^ v9);
            v1 = v1 + v5 + m0; v13 = Rotr8(v13 ^ v1); v9 = v9 + v13; v5 = Rotr7(v5 ^ v9);
            v2 = v2 + v6 + m1; v14 = Rotr16(v14 ^ v2); v10 = v10 + v14; v6 = Rotr12(v6 ^ v10);
            v2 = v2 + v6 + m9; v14 = Rotr8(v14 ^ v2); v10 = v10 + v14; v6 = Rotr7(v6 ^ v10);
            v3 = v3 + v7 + m8; v15 = Rotr16(v15 ^ v3); v11 = v11 + v15; v7 = Rotr12(v7 ^ v11);
            v3 = v3 + v7 + m6; v15 = Rotr8(v15 ^ v3); v11 = v11 + v15; v7 = Rotr7(v7 ^ v11);
            v0 = v0 + v5 + m14; v15 = Rotr16(v15 ^ v0); v10 = v10 + v15; v5 = Rotr12(v5 ^ v10);
            v0 = v0 + v5 + m10; v15 = Rotr8(v15 ^ v0); v10 = v10 + v15; v5 = Rotr7(v5 ^ v10);
            v1 = v1 + v6 + m2; v12 = Rotr16(v12 ^ v1); v11 = v11 + v12; v6 = Rotr12(v6 ^ v11);
            v1 = v1 + v6 + m12; v12 = Rotr8(v12 ^ v1); v11 = v11 + v12; v6 = Rotr7(v6 ^ v11);
            v2 = v2 + v7 + m3; v13 = Rotr16(v13 ^ v2); v8 = v8 + v13; v7 = Rotr12(v7 ^ v8);
            v2 = v2 + v7 + m4; v13 = Rotr8(v13 ^ v2); v8 = v8 + v13; v7 = Rotr7(v7 ^ v8);
            v3 = v3 + v4 + m7; v14 = Rotr16(v14 ^ v3); v9 = v9 + v14; v4 = Rotr12(v4 ^ v9);
            v3 = v3 + v4 + m13; v14 = Rotr8(v14 ^ v3); v9 = v9 + v14; v4 = Rotr7(v4 ^ v9);
            h0 = v0 ^ v8; h1 = v1 ^ v9; h2 = v2 ^ v10; h3 = v3 ^ v11;
            h4 = v4 ^ v12; h5 = v5 ^ v13; h6 = v6 ^ v14; h7 = v7 ^ v15;
        }
        Transpose8(ref h0, ref h1, ref h2, ref h3, ref h4, ref h5, ref h6, ref h7);
        h0.Store((uint*)output); h1.Store((uint*)(output + 32)); h2.Store((uint*)(output + 64)); h3.Store((uint*)(output + 96));
        h4.Store((uint*)(output + 128)); h5.Store((uint*)(output + 160)); h6.Store((uint*)(output + 192)); h7.Store((uint*)(output + 224));
    }

    // Sixteen-lane twin of HashMany8 for AVX-512: each half of the lanes is transposed as in HashMany8 and the two
    // halves are joined into one 512-bit vector per message word (and split again for the output).
    // Fully optimized from the first call: a tier-0 body of this kernel (no inlining, vectors spilled) is many
    // times slower and hashes the first hundreds of MB of a download before tiering replaces it.
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static unsafe void HashMany16(byte* input, int stride, int blocks, uint* key, ulong counter, bool increment,
        uint flags, uint flagsStart, uint flagsEnd, byte* output)
    {
        var h0 = Vector512.Create(key[0]); var h1 = Vector512.Create(key[1]);
        var h2 = Vector512.Create(key[2]); var h3 = Vector512.Create(key[3]);
        var h4 = Vector512.Create(key[4]); var h5 = Vector512.Create(key[5]);
        var h6 = Vector512.Create(key[6]); var h7 = Vector512.Create(key[7]);
        Vector512<uint> ctrLo, ctrHi;
        if (increment)
        {
            var lane = Vector512.Create(0UL, 1, 2, 3, 4, 5, 6, 7);
            var lo = Vector512.Create(counter) + lane;
            var hi = Vector512.Create(counter + 8) + lane;
            ctrLo = Vector512.Narrow(lo, hi);
            ctrHi = Vector512.Narrow(Vector512.ShiftRightLogical(lo, 32), Vector512.ShiftRightLogical(hi, 32));
        }
        else
        {
            ctrLo = Vector512.Create((uint)counter);
            ctrHi = Vector512.Create((uint)(counter >> 32));
        }
        var blockLenV = Vector512.Create((uint)BlockLen);
        for (int b = 0; b < blocks; b++)
        {
            byte* p = input + b * BlockLen;
            var m0 = Load16(p, stride, out var m1, out var m2, out var m3, out var m4, out var m5, out var m6, out var m7);
            var m8 = Load16(p + 32, stride, out var m9, out var m10, out var m11, out var m12, out var m13, out var m14, out var m15);

            uint f = flags | (b == 0 ? flagsStart : 0) | (b == blocks - 1 ? flagsEnd : 0);
            Vector512<uint> v0 = h0, v1 = h1, v2 = h2, v3 = h3, v4 = h4, v5 = h5, v6 = h6, v7 = h7;
            var v8 = Vector512.Create(0x6A09E667u); var v9 = Vector512.Create(0xBB67AE85u);
            var v10 = Vector512.Create(0x3C6EF372u); var v11 = Vector512.Create(0xA54FF53Au);
            var v12 = ctrLo; var v13 = ctrHi; var v14 = blockLenV; var v15 = Vector512.Create(f);
            // round 0
            v0 = v0 + v4 + m0; v12 = Rotr16(v12 ^ v0); v8 = v8 + v12; v4 = Rotr12(v4 ^ v8);
            v0 = v0 + v4 + m1; v12 = Rotr8(v12 ^ v0); v8 = v8 + v12; v4 = Rotr7(v4 ^ v8);
            v1 = v1 + v5 + m2; v13 = Rotr16(v13 ^ v1); v9 = v9 + v13; v5 = Rotr12(v5 ^ v9);
            v1 = v1 + v5 + m3; v13 = Rotr8(v13 ^ v1); v9 = v9 + v13; v5 = Rotr7(v5 ^ v9);
            v2 = v2 + v6 + m4; v14 = Rotr16(v14 ^ v2); v10 = v10 + v14; v6 = Rotr12(v6 ^ v10);
            v2 = v2 + v6 + m5; v14 = Rotr8(v14 ^ v2); v10 = v10 + v14; v6 = Rotr7(v6 ^ v10);
            v3 = v3 + v7 + m6; v15 = Rotr16(v15 ^ v3); v11 = v11 + v15; v7 = Rotr12(v7 ^ v11);
            v3 = v3 + v7 + m7; v15 = Rotr8(v15 ^ v3); v11 = v11 + v15; v7 = Rotr7(v7 ^ v11);
            v0 = v0 + v5 + m8; v15 = Rotr16(v15 ^ v0); v10 = v10 + v15; v5 = Rotr12(v5 ^ v10);
            v0 = v0 + v5 + m9; v15 = Rotr8(v15 ^ v0); v10 = v10 + v15; v5 = Rotr7(v5 ^ v10);
            v1 = v1 + v6 + m10; v12 = Rotr16(v12 ^ v1); v11 = v11 + v12; v6 = Rotr12(v6 ^ v11);
            v1 = v1 + v6 + m11; v12 = Rotr8(v12 ^ v1); v11 = v11 + v12; v6 = Rotr7(v6 ^ v11);
            v2 = v2 + v7 + m12; v13 = Rotr16(v13 ^ v2); v8 = v8 + v13; v7 = Rotr12(v7 ^ v8);
            v2 = v2 + v7 + m13; v13 = Rotr8(v13 ^ v2); v8 = v8 + v13; v7 = Rotr7(v7 ^ v8);
            v3 = v3 + v4 + m14; v14 = Rotr16(v14 ^ v3); v9 = v9 + v14; v4 = Rotr12(v4 ^ v9);
            v3 = v3 + v4 + m15; v14 = Rotr8(v14 ^ v3); v9 = v9 + v14; v4 = Rotr7(v4 ^ v9);
            // round 1
            v0 = v0 + v4 + m2; v12 = Rotr16(v12 ^ v0); v8 = v8 + v12; v4 = Rotr12(v4 ^ v8);
            v0 = v0 + v4 + m6; v12 = Rotr8(v12 ^ v0); v8 = v8 + v12; v4 = Rotr7(v4 ^ v8);
            v1 = v1 + v5 + m3; v13 = Rotr16(v13 ^ v1); v9 = v9 + v13; v5 = Rotr12(v5 ^ v9);
            v1 = v1 + v5 + m10; v13 = Rotr8(v13 ^ v1); v9 = v9 + v13; v5 = Rotr7(v5 ^ v9);
            v2 = v2 + v6 + m7; v14 = Rotr16(v14 ^ v2); v10 = v10 + v14; v6 = Rotr12(v6 ^ v10);
            v2 = v2 + v6 + m0; v14 = Rotr8(v14 ^ v2); v10 = v10 + v14; v6 = Rotr7(v6 ^ v10);
            v3 = v3 + v7 + m4; v15 = Rotr16(v15 ^ v3); v11 = v11 + v15; v7 = Rotr12(v7 ^ v11);
            v3 = v3 + v7 + m13; v15 = Rotr8(v15 ^ v3); v11 = v11 + v15; v7 = Rotr7(v7 ^ v11);
            v0 = v0 + v5 + m1; v15 = Rotr16(v15 ^ v0); v10 = v10 + v15; v5 = Rotr12(v5 ^ v10);
            v0 = v0 + v5 + m11; v15 = Rotr8(v15 ^ v0); v10 = v10 + v15; v5 = Rotr7(v5 ^ v10);
            v1 = v1 + v6 + m12; v12 = Rotr16(v12 ^ v1); v11 = v11 + v12; v6 = Rotr12(v6 ^ v11);
            v1 = v1 + v6 + m5; v12 = Rotr8(v12 ^ v1); v11 = v11 + v12; v6 = Rotr7(v6 ^ v11);
            v2 = v2 + v7 + m9; v13 = Rotr16(v13 ^ v2); v8 = v8 + v13; v7 = Rotr12(v7 ^ v8);
            v2 = v2 + v7 + m14; v13 = Rotr8(v13 ^ v2); v8 = v8 + v13; v7 = Rotr7(v7 ^ v8);
            v3 = v3 + v4 + m15; v14 = Rotr16(v14 ^ v3); v9 = v9 + v14; v4 = Rotr12(v4 ^ v9);
            v3 = v3 + v4 + m8; v14 = Rotr8(v14 ^ v3); v9 = v9 + v14; v4 = Rotr7(v4 ^ v9);
            // round 2
            v0 = v0 + v4 + m3; v12 = Rotr16(v12 ^ v0); v8 = v8 + v12; v4 = Rotr12(v4 ^ v8);
            v0 = v0 + v4 + m4; v12 = Rotr8(v12 ^ v0); v8 = v8 + v12; v4 = Rotr7(v4 ^ v8);
            v1 = v1 + v5 + m10; v13 = Rotr16(v13 ^ v1); v9 = v9 + v13; v5 = Rotr12(v5 ^ v9);
            v1 = v1 + v5 + m12; v13 = Rotr8(v13 ^ v1); v9 = v9 + v13; v5 = Rotr7(v5 ^ v9);
            v2 = v2 + v6 + m13; v14 = Rotr16(v14 ^ v2); v10 = v10 + v14; v6 = Rotr12(v6 ^ v10);
            v2 = v2 + v6 + m2; v14 = Rotr8(v14 ^ v2); v10 = v10 + v14; v6 = Rotr7(v6 ^ v10);
            v3 = v3 + v7 + m7; v15 = Rotr16(v15 ^ v3); v11 = v11 + v15; v7 = Rotr12(v7 ^ v11);
            v3 = v3 + v7 + m14; v15 = Rotr8(v15 ^ v3); v11 = v11 + v15; v7 = Rotr7(v7 ^ v11);
            v0 = v0 + v5 + m6; v15 = Rotr16(v15 ^ v0); v10 = v10 + v15; v5 = Rotr12(v5 ^ v10);
            v0 = v0 + v5 + m5; v15 = Rotr8(v15 ^ v0); v10 = v10 + v15; v5 = Rotr7(v5 ^ v10);
            v1 = v1 + v6 + m9; v12 = Rotr16(v12 ^ v1); v11 = v11 + v12; v6 = Rotr12(v6 ^ v11);
            v1 = v1 + v6 + m0; v12 = Rotr8(v12 ^ v1); v11 = v11 + v12; v6 = Rotr7(v6 ^ v11);
            v2 = v2 + v7 + m11; v13 = Rotr16(v13 ^ v2); v8 = v8 + v13; v7 = Rotr12(v7 ^ v8);
            v2 = v2 + v7 + m15; v13 = Rotr8(v13 ^ v2); v8 = v8 + v13; v7 = Rotr7(v7 ^ v8);
            v3 = v3 + v4 + m8; v14 = Rotr16(v14 ^ v3); v9 = v9 + v14; v4 = Rotr12(v4 ^ v9);
            v3 = v3 + v4 + m1; v14 = Rotr8(v14 ^ v3); v9 = v9 + v14; v4 = Rotr7(v4 ^ v9);
            // round 3
            v0 = v0 + v4 + m10; v12 = Rotr16(v12 ^ v0); v8 = v8 + v12; v4 = Rotr12(v4 ^ v8);
            v0 = v0 + v4 + m7; v12 = Rotr8(v12 ^ v0); v8 = v8 + v12; v4 = Rotr7(v4 ^ v8);
            v1 = v1 + v5 + m12; v13 = Rotr16(v13 ^ v1); v9 = v9 + v13; v5 = Rotr12(v5 ^ v9);
            v1 = v1 + v5 + m9; v13 = Rotr8(v13 ^ v1); v9 = v9 + v13; v5 = Rotr7(v5 ^ v9);
            v2 = v2 + v6 + m14; v14 = Rotr16(v14 ^ v2); v10 = v10 + v14; v6 = Rotr12(v6 ^ v10);
            v2 = v2 + v6 + m3; v14 = Rotr8(v14 ^ v2); v10 = v10 + v14; v6 = Rotr7(v6 ^ v10);
            v3 = v3 + v7 + m13; v15 = Rotr16(v15 ^ v3); v11 = v11 + v15; v7 = Rotr12(v7 ^ v11);
            v3 = v3 + v7 + m15; v15 = Rotr8(v15 ^ v3); v11 = v11 + v15; v7 = Rotr7(v7 ^ v11);
            v0 = v0 + v5 + m4; v15 = Rotr16(v15 ^ v0); v10 = v10 + v15; v5 = Rotr12(v5 ^ v10);
            v0 = v0 + v5 + m0; v15 = Rotr8(v15 ^ v0); v10 = v10 + v15; v5 = Rotr7(v5 ^ v10);
            v1 = v1 + v6 + m11; v12 = Rotr16(v12 ^ v1); v11 = v11 + v12; v6 = Rotr12(v6 ^ v11);
            v1 = v1 + v6 + m2; v12 = Rotr8(v12 ^ v1); v11 = v11 + v12; v6 = Rotr7(v6 ^ v11);
            v2 = v2 + v7 + m5; v13 = Rotr16(v13 ^ v2); v8 = v8 + v13; v7 = Rotr12(v7 ^ v8);
            v2 = v2 + v7 + m8; v13 = Rotr8(v13 ^ v2); v8 = v8 + v13; v7 = Rotr7(v7 ^ v8);
            v3 = v3 + v4 + m1; v14 = Rotr16(v14 ^ v3); v9 = v9 + v14; v4 = Rotr12(v4 ^ v9);
            v3 = v3 + v4 + m6; v14 = Rotr8(v14 ^ v3); v9 = v9 + v14; v4 = Rotr7(v4 ^ v9);
            // round 4
            v0 = v0 + v4 + m12; v12 = Rotr16(v12 ^ v0); v8 = v8 + v12; v4 = Rotr12(v4 ^ v8);
            v0 = v0 + v4 + m13; v12 = Rotr8(v12 ^ v0); v8 = v8 + v12; v4 = Rotr7(v4 ^ v8);
            v1 = v1 + v5 + m9; v13 = Rotr16(v13 ^ v1); v9 = v9 + v13; v5 = Rotr12(v5 ^ v9);
            v1 = v1 + v5 + m11; v13 = Rotr8(v13 ^ v1); v9 = v9 + v13; v5 = Rotr7(v5 ^ v9);
            v2 = v2 + v6 + m15; v14 = Rotr16(v14 ^ v2); v10 = v10 + v14; v6 = Rotr12(v6 ^ v10);
            v2 = v2 + v6 + m10; v14 = Rotr8(v14 ^ v2); v10 = v10 + v14; v6 = Rotr7(v6 ^ v10);
            v3 = v3 + v7 + m14; v15 = Rotr16(v15 ^ v3); v11 = v11 + v15; v7 = Rotr12(v7 ^ v11);
            v3 = v3 + v7 + m8; v15 = Rotr8(v15 ^ v3); v11 = v11 + v15; v7 = Rotr7(v7 ^ v11);
            v0 = v0 + v5 + m7; v15 = Rotr16(v15 ^ v0); v10 = v10 + v15; v5 = Rotr12(v5 ^ v10);
            v0 = v0 + v5 + m2; v15 = Rotr8(v15 ^ v0); v10 = v10 + v15; v5 = Rotr7(v5 ^ v10);
            v1 = v1 + v6 + m5; v12 = Rotr16(v12 ^ v1); v11 = v11 + v12; v6 = Rotr12(v6 ^ v11);
            v1 = v1 + v6 + m3; v12 = Rotr8(v12 ^ v1); v11 = v11 + v12; v6 = Rotr7(v6 ^ v11);
            v2 = v2 + v7 + m0; v13 = Rotr16(v13 ^ v2); v8 = v8 + v13; v7 = Rotr12(v7 ^ v8);
            v2 = v2 + v7 + m1; v13 = Rotr8(v13 ^ v2); v8 = v8 + v13; v7 = Rotr7(v7 ^ v8);
            v3 = v3 + v4 + m6; v14 = Rotr16(v14 ^ v3); v9 = v9 + v14; v4 = Rotr12(v4 ^ v9);
            v3 = v3 + v4 + m4; v14 = Rotr8(v14 ^ v3); v9 = v9 + v14; v4 = Rotr7(v4 ^ v9);
            // round 5
            v0 = v0 + v4 + m9; v12 = Rotr16(v12 ^ v0); v8 = v8 + v12; v4 = Rotr12(v4 ^ v8);
            v0 = v0 + v4 + m14; v12 = Rotr8(v12 ^ v0); v8 = v8 + v12; v4 = Rotr7(v4 ^ v8);
            v1 = v1 + v5 + m11; v13 = Rotr16(v13 ^ v1); v9 = v9 + v13; v5 = Rotr12(v5 ^ v9);
            v1 = v1 + v5 + m5; v13 = Rotr8(v13 ^ v1); v9 = v9 + v13; v5 = Rotr7(v5 ^ v9);
            v2 = v2 + v6 + m8; v14 = Rotr16(v14 ^ v2); v10 = v10 + v14; v6 = Rotr12(v6 ^ v10);
            v2 = v2 + v6 + m12; v14 = Rotr8(v14 ^ v2); v10 = v10 + v14; v6 = Rotr7(v6 ^ v10);
            v3 = v3 + v7 + m15; v15 = Rotr16(v15 ^ v3); v11 = v11 + v15; v7 = Rotr12(v7 ^ v11);
            v3 = v3 + v7 + m1; v15 = Rotr8(v15 ^ v3); v11 = v11 + v15; v7 = Rotr7(v7 ^ v11);
            v0 = v0 + v5 + m13; v15 = Rotr16(v15 ^ v0); v10 = v10 + v15; v5 = Rotr12(v5 ^ v10);
            v0 = v0 + v5 + m3; v15 = Rotr8(v15 ^ v0); v10 = v10 + v15; v5 = Rotr7(v5 ^ v10);
            v1 = v1 + v6 + m0; v12 = Rotr16(v12 ^ v1); v11 = v11 + v12; v6 = Rotr12(v6 ^ v11);
            v1 = v1 + v6 + m10; v12 = Rotr8(v12 ^ v1); v11 = v11 + v12; v6 = Rotr7(v6 ^ v11);
            v2 = v2 + v7 + m2; v13 = Rotr16(v13 ^ v2); v8 = v8 + v13; v7 = Rotr12(v7 ^ v8);
            v2 = v2 + v7 + m6; v13 = Rotr8(v13 ^ v2); v8 = v8 + v13; v7 = Rotr7(v7 ^ v8);
            v3 = v3 + v4 + m4; v14 = Rotr16(v14 ^ v3); v9 = v9 + v14; v4 = Rotr12(v4 ^ v9);
            v3 = v3 + v4 + m7; v14 = Rotr8(v14 ^ v3); v9 = v9 + v14; v4 = Rotr7(v4 ^ v9);
            // round 6
            v0 = v0 + v4 + m11; v12 = Rotr16(v12 ^ v0); v8 = v8 + v12; v4 = Rotr12(v4 ^ v8);
            v0 = v0 + v4 + m15; v12 = Rotr8(v12 ^ v0); v8 = v8 + v12; v4 = Rotr7(v4 ^ v8);
            v1 = v1 + v5 + m5; v13 = Rotr16(v13 ^ v1); v9 = v9 + v13; v5 = Rotr12(v5 ^ v9);
            v1 = v1 + v5 + m0; v13 = Rotr8(v13 ^ v1); v9 = v9 + v13; v5 = Rotr7(v5 ^ v9);
            v2 = v2 + v6 + m1; v14 = Rotr16(v14 ^ v2); v10 = v10 + v14; v6 = Rotr12(v6 ^ v10);
            v2 = v2 + v6 + m9; v14 = Rotr8(v14 ^ v2); v10 = v10 + v14; v6 = Rotr7(v6 ^ v10);
            v3 = v3 + v7 + m8; v15 = Rotr16(v15 ^ v3); v11 = v11 + v15; v7 = Rotr12(v7 ^ v11);
            v3 = v3 + v7 + m6; v15 = Rotr8(v15 ^ v3); v11 = v11 + v15; v7 = Rotr7(v7 ^ v11);
            v0 = v0 + v5 + m14; v15 = Rotr16(v15 ^ v0); v10 = v10 + v15; v5 = Rotr12(v5 ^ v10);
            v0 = v0 + v5 + m10; v15 = Rotr8(v15 ^ v0); v10 = v10 + v15; v5 = Rotr7(v5 ^ v10);
            v1 = v1 + v6 + m2; v12 = Rotr16(v12 ^ v1); v11 = v11 + v12; v6 = Rotr12(v6 ^ v11);
            v1 = v1 + v6 + m12; v12 = Rotr8(v12 ^ v1); v11 = v11 + v12; v6 = Rotr7(v6 ^ v11);
            v2 = v2 + v7 + m3; v13 = Rotr16(v13 ^ v2); v8 = v8 + v13; v7 = Rotr12(v7 ^ v8);
            v2 = v2 + v7 + m4; v13 = Rotr8(v13 ^ v2); v8 = v8 + v13; v7 = Rotr7(v7 ^ v8);
            v3 = v3 + v4 + m7; v14 = Rotr16(v14 ^ v3); v9 = v9 + v14; v4 = Rotr12(v4 ^ v9);
            v3 = v3 + v4 + m13; v14 = Rotr8(v14 ^ v3); v9 = v9 + v14; v4 = Rotr7(v4 ^ v9);
            h0 = v0 ^ v8; h1 = v1 ^ v9; h2 = v2 ^ v10; h3 = v3 ^ v11;
            h4 = v4 ^ v12; h5 = v5 ^ v13; h6 = v6 ^ v14; h7 = v7 ^ v15;
        }
        Store16(output, h0, h1, h2, h3, h4, h5, h6, h7);
    }

    // Eight words (32 bytes at p + j*stride) of sixteen inputs, transposed: the result k holds word k of every input.
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static unsafe Vector512<uint> Load16(byte* p, int stride, out Vector512<uint> w1, out Vector512<uint> w2,
        out Vector512<uint> w3, out Vector512<uint> w4, out Vector512<uint> w5, out Vector512<uint> w6, out Vector512<uint> w7)
    {
        var a0 = Vector256.Load((uint*)p); var a1 = Vector256.Load((uint*)(p + stride));
        var a2 = Vector256.Load((uint*)(p + 2 * stride)); var a3 = Vector256.Load((uint*)(p + 3 * stride));
        var a4 = Vector256.Load((uint*)(p + 4 * stride)); var a5 = Vector256.Load((uint*)(p + 5 * stride));
        var a6 = Vector256.Load((uint*)(p + 6 * stride)); var a7 = Vector256.Load((uint*)(p + 7 * stride));
        Transpose8(ref a0, ref a1, ref a2, ref a3, ref a4, ref a5, ref a6, ref a7);
        byte* q = p + 8 * stride;
        var b0 = Vector256.Load((uint*)q); var b1 = Vector256.Load((uint*)(q + stride));
        var b2 = Vector256.Load((uint*)(q + 2 * stride)); var b3 = Vector256.Load((uint*)(q + 3 * stride));
        var b4 = Vector256.Load((uint*)(q + 4 * stride)); var b5 = Vector256.Load((uint*)(q + 5 * stride));
        var b6 = Vector256.Load((uint*)(q + 6 * stride)); var b7 = Vector256.Load((uint*)(q + 7 * stride));
        Transpose8(ref b0, ref b1, ref b2, ref b3, ref b4, ref b5, ref b6, ref b7);
        w1 = Vector512.Create(a1, b1); w2 = Vector512.Create(a2, b2); w3 = Vector512.Create(a3, b3);
        w4 = Vector512.Create(a4, b4); w5 = Vector512.Create(a5, b5); w6 = Vector512.Create(a6, b6); w7 = Vector512.Create(a7, b7);
        return Vector512.Create(a0, b0);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static unsafe void Store16(byte* output, Vector512<uint> h0, Vector512<uint> h1, Vector512<uint> h2, Vector512<uint> h3,
        Vector512<uint> h4, Vector512<uint> h5, Vector512<uint> h6, Vector512<uint> h7)
    {
        var a0 = h0.GetLower(); var a1 = h1.GetLower(); var a2 = h2.GetLower(); var a3 = h3.GetLower();
        var a4 = h4.GetLower(); var a5 = h5.GetLower(); var a6 = h6.GetLower(); var a7 = h7.GetLower();
        Transpose8(ref a0, ref a1, ref a2, ref a3, ref a4, ref a5, ref a6, ref a7);
        a0.Store((uint*)output); a1.Store((uint*)(output + 32)); a2.Store((uint*)(output + 64)); a3.Store((uint*)(output + 96));
        a4.Store((uint*)(output + 128)); a5.Store((uint*)(output + 160)); a6.Store((uint*)(output + 192)); a7.Store((uint*)(output + 224));
        var b0 = h0.GetUpper(); var b1 = h1.GetUpper(); var b2 = h2.GetUpper(); var b3 = h3.GetUpper();
        var b4 = h4.GetUpper(); var b5 = h5.GetUpper(); var b6 = h6.GetUpper(); var b7 = h7.GetUpper();
        Transpose8(ref b0, ref b1, ref b2, ref b3, ref b4, ref b5, ref b6, ref b7);
        byte* o = output + 256;
        b0.Store((uint*)o); b1.Store((uint*)(o + 32)); b2.Store((uint*)(o + 64)); b3.Store((uint*)(o + 96));
        b4.Store((uint*)(o + 128)); b5.Store((uint*)(o + 160)); b6.Store((uint*)(o + 192)); b7.Store((uint*)(o + 224));
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<uint> Rotr16(Vector512<uint> x) => Avx512F.RotateRight(x, 16);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<uint> Rotr12(Vector512<uint> x) => Avx512F.RotateRight(x, 12);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<uint> Rotr8(Vector512<uint> x) => Avx512F.RotateRight(x, 8);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<uint> Rotr7(Vector512<uint> x) => Avx512F.RotateRight(x, 7);

    // Rows r_j (8 words of input j) become columns: afterwards r_i holds word i of every input.
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Transpose8(ref Vector256<uint> r0, ref Vector256<uint> r1, ref Vector256<uint> r2, ref Vector256<uint> r3,
        ref Vector256<uint> r4, ref Vector256<uint> r5, ref Vector256<uint> r6, ref Vector256<uint> r7)
    {
        var t0 = Avx2.UnpackLow(r0, r1); var t1 = Avx2.UnpackHigh(r0, r1);
        var t2 = Avx2.UnpackLow(r2, r3); var t3 = Avx2.UnpackHigh(r2, r3);
        var t4 = Avx2.UnpackLow(r4, r5); var t5 = Avx2.UnpackHigh(r4, r5);
        var t6 = Avx2.UnpackLow(r6, r7); var t7 = Avx2.UnpackHigh(r6, r7);
        var u0 = Avx2.UnpackLow(t0.AsUInt64(), t2.AsUInt64()).AsUInt32(); var u1 = Avx2.UnpackHigh(t0.AsUInt64(), t2.AsUInt64()).AsUInt32();
        var u2 = Avx2.UnpackLow(t1.AsUInt64(), t3.AsUInt64()).AsUInt32(); var u3 = Avx2.UnpackHigh(t1.AsUInt64(), t3.AsUInt64()).AsUInt32();
        var u4 = Avx2.UnpackLow(t4.AsUInt64(), t6.AsUInt64()).AsUInt32(); var u5 = Avx2.UnpackHigh(t4.AsUInt64(), t6.AsUInt64()).AsUInt32();
        var u6 = Avx2.UnpackLow(t5.AsUInt64(), t7.AsUInt64()).AsUInt32(); var u7 = Avx2.UnpackHigh(t5.AsUInt64(), t7.AsUInt64()).AsUInt32();
        r0 = Avx2.Permute2x128(u0, u4, 0x20); r1 = Avx2.Permute2x128(u1, u5, 0x20);
        r2 = Avx2.Permute2x128(u2, u6, 0x20); r3 = Avx2.Permute2x128(u3, u7, 0x20);
        r4 = Avx2.Permute2x128(u0, u4, 0x31); r5 = Avx2.Permute2x128(u1, u5, 0x31);
        r6 = Avx2.Permute2x128(u2, u6, 0x31); r7 = Avx2.Permute2x128(u3, u7, 0x31);
    }

    // Rotations: one vprord with AVX-512VL; otherwise a byte shuffle for 16 and 8, two shifts for 12 and 7.
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<uint> Rotr16(Vector256<uint> x) => Avx512F.VL.IsSupported ? Avx512F.VL.RotateRight(x, 16)
        : Avx2.Shuffle(x.AsByte(), Vector256.Create((byte)2, 3, 0, 1, 6, 7, 4, 5, 10, 11, 8, 9, 14, 15, 12, 13,
            2, 3, 0, 1, 6, 7, 4, 5, 10, 11, 8, 9, 14, 15, 12, 13)).AsUInt32();

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<uint> Rotr8(Vector256<uint> x) => Avx512F.VL.IsSupported ? Avx512F.VL.RotateRight(x, 8)
        : Avx2.Shuffle(x.AsByte(), Vector256.Create((byte)1, 2, 3, 0, 5, 6, 7, 4, 9, 10, 11, 8, 13, 14, 15, 12,
            1, 2, 3, 0, 5, 6, 7, 4, 9, 10, 11, 8, 13, 14, 15, 12)).AsUInt32();

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<uint> Rotr12(Vector256<uint> x) => Avx512F.VL.IsSupported ? Avx512F.VL.RotateRight(x, 12)
        : Vector256.ShiftRightLogical(x, 12) | Vector256.ShiftLeft(x, 20);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<uint> Rotr7(Vector256<uint> x) => Avx512F.VL.IsSupported ? Avx512F.VL.RotateRight(x, 7)
        : Vector256.ShiftRightLogical(x, 7) | Vector256.ShiftLeft(x, 25);

    // Four-lane twin of HashMany8 for machines with 128-bit vectors only, and for groups of 4..7 leftover inputs.
    // Fully optimized from the first call: a tier-0 body of this kernel (no inlining, vectors spilled) is many
    // times slower and hashes the first hundreds of MB of a download before tiering replaces it.
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static unsafe void HashMany4(byte* input, int stride, int blocks, uint* key, ulong counter, bool increment,
        uint flags, uint flagsStart, uint flagsEnd, byte* output)
    {
        var h0 = Vector128.Create(key[0]); var h1 = Vector128.Create(key[1]);
        var h2 = Vector128.Create(key[2]); var h3 = Vector128.Create(key[3]);
        var h4 = Vector128.Create(key[4]); var h5 = Vector128.Create(key[5]);
        var h6 = Vector128.Create(key[6]); var h7 = Vector128.Create(key[7]);
        Vector128<uint> ctrLo, ctrHi;
        if (increment)
        {
            ulong c = counter;
            ctrLo = Vector128.Create((uint)c, (uint)(c + 1), (uint)(c + 2), (uint)(c + 3));
            ctrHi = Vector128.Create((uint)(c >> 32), (uint)((c + 1) >> 32), (uint)((c + 2) >> 32), (uint)((c + 3) >> 32));
        }
        else
        {
            ctrLo = Vector128.Create((uint)counter);
            ctrHi = Vector128.Create((uint)(counter >> 32));
        }
        var blockLenV = Vector128.Create((uint)BlockLen);
        for (int b = 0; b < blocks; b++)
        {
            byte* p = input + b * BlockLen;
            var m0 = Vector128.Load((uint*)p); var m1 = Vector128.Load((uint*)(p + stride));
            var m2 = Vector128.Load((uint*)(p + 2 * stride)); var m3 = Vector128.Load((uint*)(p + 3 * stride));
            Transpose4(ref m0, ref m1, ref m2, ref m3);
            var m4 = Vector128.Load((uint*)(p + 16)); var m5 = Vector128.Load((uint*)(p + 16 + stride));
            var m6 = Vector128.Load((uint*)(p + 16 + 2 * stride)); var m7 = Vector128.Load((uint*)(p + 16 + 3 * stride));
            Transpose4(ref m4, ref m5, ref m6, ref m7);
            var m8 = Vector128.Load((uint*)(p + 32)); var m9 = Vector128.Load((uint*)(p + 32 + stride));
            var m10 = Vector128.Load((uint*)(p + 32 + 2 * stride)); var m11 = Vector128.Load((uint*)(p + 32 + 3 * stride));
            Transpose4(ref m8, ref m9, ref m10, ref m11);
            var m12 = Vector128.Load((uint*)(p + 48)); var m13 = Vector128.Load((uint*)(p + 48 + stride));
            var m14 = Vector128.Load((uint*)(p + 48 + 2 * stride)); var m15 = Vector128.Load((uint*)(p + 48 + 3 * stride));
            Transpose4(ref m12, ref m13, ref m14, ref m15);

            uint f = flags | (b == 0 ? flagsStart : 0) | (b == blocks - 1 ? flagsEnd : 0);
            Vector128<uint> v0 = h0, v1 = h1, v2 = h2, v3 = h3, v4 = h4, v5 = h5, v6 = h6, v7 = h7;
            var v8 = Vector128.Create(0x6A09E667u); var v9 = Vector128.Create(0xBB67AE85u);
            var v10 = Vector128.Create(0x3C6EF372u); var v11 = Vector128.Create(0xA54FF53Au);
            var v12 = ctrLo; var v13 = ctrHi; var v14 = blockLenV; var v15 = Vector128.Create(f);
            // round 0
            v0 = v0 + v4 + m0; v12 = Rotr16(v12 ^ v0); v8 = v8 + v12; v4 = Rotr12(v4 ^ v8);
            v0 = v0 + v4 + m1; v12 = Rotr8(v12 ^ v0); v8 = v8 + v12; v4 = Rotr7(v4 ^ v8);
            v1 = v1 + v5 + m2; v13 = Rotr16(v13 ^ v1); v9 = v9 + v13; v5 = Rotr12(v5 ^ v9);
            v1 = v1 + v5 + m3; v13 = Rotr8(v13 ^ v1); v9 = v9 + v13; v5 = Rotr7(v5 ^ v9);
            v2 = v2 + v6 + m4; v14 = Rotr16(v14 ^ v2); v10 = v10 + v14; v6 = Rotr12(v6 ^ v10);
            v2 = v2 + v6 + m5; v14 = Rotr8(v14 ^ v2); v10 = v10 + v14; v6 = Rotr7(v6 ^ v10);
            v3 = v3 + v7 + m6; v15 = Rotr16(v15 ^ v3); v11 = v11 + v15; v7 = Rotr12(v7 ^ v11);
            v3 = v3 + v7 + m7; v15 = Rotr8(v15 ^ v3); v11 = v11 + v15; v7 = Rotr7(v7 ^ v11);
            v0 = v0 + v5 + m8; v15 = Rotr16(v15 ^ v0); v10 = v10 + v15; v5 = Rotr12(v5 ^ v10);
            v0 = v0 + v5 + m9; v15 = Rotr8(v15 ^ v0); v10 = v10 + v15; v5 = Rotr7(v5 ^ v10);
            v1 = v1 + v6 + m10; v12 = Rotr16(v12 ^ v1); v11 = v11 + v12; v6 = Rotr12(v6 ^ v11);
            v1 = v1 + v6 + m11; v12 = Rotr8(v12 ^ v1); v11 = v11 + v12; v6 = Rotr7(v6 ^ v11);
            v2 = v2 + v7 + m12; v13 = Rotr16(v13 ^ v2); v8 = v8 + v13; v7 = Rotr12(v7 ^ v8);
            v2 = v2 + v7 + m13; v13 = Rotr8(v13 ^ v2); v8 = v8 + v13; v7 = Rotr7(v7 ^ v8);
            v3 = v3 + v4 + m14; v14 = Rotr16(v14 ^ v3); v9 = v9 + v14; v4 = Rotr12(v4 ^ v9);
            v3 = v3 + v4 + m15; v14 = Rotr8(v14 ^ v3); v9 = v9 + v14; v4 = Rotr7(v4 ^ v9);
            // round 1
            v0 = v0 + v4 + m2; v12 = Rotr16(v12 ^ v0); v8 = v8 + v12; v4 = Rotr12(v4 ^ v8);
            v0 = v0 + v4 + m6; v12 = Rotr8(v12 ^ v0); v8 = v8 + v12; v4 = Rotr7(v4 ^ v8);
            v1 = v1 + v5 + m3; v13 = Rotr16(v13 ^ v1); v9 = v9 + v13; v5 = Rotr12(v5 ^ v9);
            v1 = v1 + v5 + m10; v13 = Rotr8(v13 ^ v1); v9 = v9 + v13; v5 = Rotr7(v5 ^ v9);
            v2 = v2 + v6 + m7; v14 = Rotr16(v14 ^ v2); v10 = v10 + v14; v6 = Rotr12(v6 ^ v10);
            v2 = v2 + v6 + m0; v14 = Rotr8(v14 ^ v2); v10 = v10 + v14; v6 = Rotr7(v6 ^ v10);
            v3 = v3 + v7 + m4; v15 = Rotr16(v15 ^ v3); v11 = v11 + v15; v7 = Rotr12(v7 ^ v11);
            v3 = v3 + v7 + m13; v15 = Rotr8(v15 ^ v3); v11 = v11 + v15; v7 = Rotr7(v7 ^ v11);
            v0 = v0 + v5 + m1; v15 = Rotr16(v15 ^ v0); v10 = v10 + v15; v5 = Rotr12(v5 ^ v10);
            v0 = v0 + v5 + m11; v15 = Rotr8(v15 ^ v0); v10 = v10 + v15; v5 = Rotr7(v5 ^ v10);
            v1 = v1 + v6 + m12; v12 = Rotr16(v12 ^ v1); v11 = v11 + v12; v6 = Rotr12(v6 ^ v11);
            v1 = v1 + v6 + m5; v12 = Rotr8(v12 ^ v1); v11 = v11 + v12; v6 = Rotr7(v6 ^ v11);
            v2 = v2 + v7 + m9; v13 = Rotr16(v13 ^ v2); v8 = v8 + v13; v7 = Rotr12(v7 ^ v8);
            v2 = v2 + v7 + m14; v13 = Rotr8(v13 ^ v2); v8 = v8 + v13; v7 = Rotr7(v7 ^ v8);
            v3 = v3 + v4 + m15; v14 = Rotr16(v14 ^ v3); v9 = v9 + v14; v4 = Rotr12(v4 ^ v9);
            v3 = v3 + v4 + m8; v14 = Rotr8(v14 ^ v3); v9 = v9 + v14; v4 = Rotr7(v4 ^ v9);
            // round 2
            v0 = v0 + v4 + m3; v12 = Rotr16(v12 ^ v0); v8 = v8 + v12; v4 = Rotr12(v4 ^ v8);
            v0 = v0 + v4 + m4; v12 = Rotr8(v12 ^ v0); v8 = v8 + v12; v4 = Rotr7(v4 ^ v8);
            v1 = v1 + v5 + m10; v13 = Rotr16(v13 ^ v1); v9 = v9 + v13; v5 = Rotr12(v5 ^ v9);
            v1 = v1 + v5 + m12; v13 = Rotr8(v13 ^ v1); v9 = v9 + v13; v5 = Rotr7(v5 ^ v9);
            v2 = v2 + v6 + m13; v14 = Rotr16(v14 ^ v2); v10 = v10 + v14; v6 = Rotr12(v6 ^ v10);
            v2 = v2 + v6 + m2; v14 = Rotr8(v14 ^ v2); v10 = v10 + v14; v6 = Rotr7(v6 ^ v10);
            v3 = v3 + v7 + m7; v15 = Rotr16(v15 ^ v3); v11 = v11 + v15; v7 = Rotr12(v7 ^ v11);
            v3 = v3 + v7 + m14; v15 = Rotr8(v15 ^ v3); v11 = v11 + v15; v7 = Rotr7(v7 ^ v11);
            v0 = v0 + v5 + m6; v15 = Rotr16(v15 ^ v0); v10 = v10 + v15; v5 = Rotr12(v5 ^ v10);
            v0 = v0 + v5 + m5; v15 = Rotr8(v15 ^ v0); v10 = v10 + v15; v5 = Rotr7(v5 ^ v10);
            v1 = v1 + v6 + m9; v12 = Rotr16(v12 ^ v1); v11 = v11 + v12; v6 = Rotr12(v6 ^ v11);
            v1 = v1 + v6 + m0; v12 = Rotr8(v12 ^ v1); v11 = v11 + v12; v6 = Rotr7(v6 ^ v11);
            v2 = v2 + v7 + m11; v13 = Rotr16(v13 ^ v2); v8 = v8 + v13; v7 = Rotr12(v7 ^ v8);
            v2 = v2 + v7 + m15; v13 = Rotr8(v13 ^ v2); v8 = v8 + v13; v7 = Rotr7(v7 ^ v8);
            v3 = v3 + v4 + m8; v14 = Rotr16(v14 ^ v3); v9 = v9 + v14; v4 = Rotr12(v4 ^ v9);
            v3 = v3 + v4 + m1; v14 = Rotr8(v14 ^ v3); v9 = v9 + v14; v4 = Rotr7(v4 ^ v9);
            // round 3
            v0 = v0 + v4 + m10; v12 = Rotr16(v12 ^ v0); v8 = v8 + v12; v4 = Rotr12(v4 ^ v8);
            v0 = v0 + v4 + m7; v12 = Rotr8(v12 ^ v0); v8 = v8 + v12; v4 = Rotr7(v4 ^ v8);
            v1 = v1 + v5 + m12; v13 = Rotr16(v13 ^ v1); v9 = v9 + v13; v5 = Rotr12(v5 ^ v9);
            v1 = v1 + v5 + m9; v13 = Rotr8(v13 ^ v1); v9 = v9 + v13; v5 = Rotr7(v5 ^ v9);
            v2 = v2 + v6 + m14; v14 = Rotr16(v14 ^ v2); v10 = v10 + v14; v6 = Rotr12(v6 ^ v10);
            v2 = v2 + v6 + m3; v14 = Rotr8(v14 ^ v2); v10 = v10 + v14; v6 = Rotr7(v6 ^ v10);
            v3 = v3 + v7 + m13; v15 = Rotr16(v15 ^ v3); v11 = v11 + v15; v7 = Rotr12(v7 ^ v11);
            v3 = v3 + v7 + m15; v15 = Rotr8(v15 ^ v3); v11 = v11 + v15; v7 = Rotr7(v7 ^ v11);
            v0 = v0 + v5 + m4; v15 = Rotr16(v15 ^ v0); v10 = v10 + v15; v5 = Rotr12(v5 ^ v10);
            v0 = v0 + v5 + m0; v15 = Rotr8(v15 ^ v0); v10 = v10 + v15; v5 = Rotr7(v5 ^ v10);
            v1 = v1 + v6 + m11; v12 = Rotr16(v12 ^ v1); v11 = v11 + v12; v6 = Rotr12(v6 ^ v11);
            v1 = v1 + v6 + m2; v12 = Rotr8(v12 ^ v1); v11 = v11 + v12; v6 = Rotr7(v6 ^ v11);
            v2 = v2 + v7 + m5; v13 = Rotr16(v13 ^ v2); v8 = v8 + v13; v7 = Rotr12(v7 ^ v8);
            v2 = v2 + v7 + m8; v13 = Rotr8(v13 ^ v2); v8 = v8 + v13; v7 = Rotr7(v7 ^ v8);
            v3 = v3 + v4 + m1; v14 = Rotr16(v14 ^ v3); v9 = v9 + v14; v4 = Rotr12(v4 ^ v9);
            v3 = v3 + v4 + m6; v14 = Rotr8(v14 ^ v3); v9 = v9 + v14; v4 = Rotr7(v4 ^ v9);
            // round 4
            v0 = v0 + v4 + m12; v12 = Rotr16(v12 ^ v0); v8 = v8 + v12; v4 = Rotr12(v4 ^ v8);
            v0 = v0 + v4 + m13; v12 = Rotr8(v12 ^ v0); v8 = v8 + v12; v4 = Rotr7(v4 ^ v8);
            v1 = v1 + v5 + m9; v13 = Rotr16(v13 ^ v1); v9 = v9 + v13; v5 = Rotr12(v5 ^ v9);
            v1 = v1 + v5 + m11; v13 = Rotr8(v13 ^ v1); v9 = v9 + v13; v5 = Rotr7(v5 ^ v9);
            v2 = v2 + v6 + m15; v14 = Rotr16(v14 ^ v2); v10 = v10 + v14; v6 = Rotr12(v6 ^ v10);
            v2 = v2 + v6 + m10; v14 = Rotr8(v14 ^ v2); v10 = v10 + v14; v6 = Rotr7(v6 ^ v10);
            v3 = v3 + v7 + m14; v15 = Rotr16(v15 ^ v3); v11 = v11 + v15; v7 = Rotr12(v7 ^ v11);
            v3 = v3 + v7 + m8; v15 = Rotr8(v15 ^ v3); v11 = v11 + v15; v7 = Rotr7(v7 ^ v11);
            v0 = v0 + v5 + m7; v15 = Rotr16(v15 ^ v0); v10 = v10 + v15; v5 = Rotr12(v5 ^ v10);
            v0 = v0 + v5 + m2; v15 = Rotr8(v15 ^ v0); v10 = v10 + v15; v5 = Rotr7(v5 ^ v10);
            v1 = v1 + v6 + m5; v12 = Rotr16(v12 ^ v1); v11 = v11 + v12; v6 = Rotr12(v6 ^ v11);
            v1 = v1 + v6 + m3; v12 = Rotr8(v12 ^ v1); v11 = v11 + v12; v6 = Rotr7(v6 ^ v11);
            v2 = v2 + v7 + m0; v13 = Rotr16(v13 ^ v2); v8 = v8 + v13; v7 = Rotr12(v7 ^ v8);
            v2 = v2 + v7 + m1; v13 = Rotr8(v13 ^ v2); v8 = v8 + v13; v7 = Rotr7(v7 ^ v8);
            v3 = v3 + v4 + m6; v14 = Rotr16(v14 ^ v3); v9 = v9 + v14; v4 = Rotr12(v4 ^ v9);
            v3 = v3 + v4 + m4; v14 = Rotr8(v14 ^ v3); v9 = v9 + v14; v4 = Rotr7(v4 ^ v9);
            // round 5
            v0 = v0 + v4 + m9; v12 = Rotr16(v12 ^ v0); v8 = v8 + v12; v4 = Rotr12(v4 ^ v8);
            v0 = v0 + v4 + m14; v12 = Rotr8(v12 ^ v0); v8 = v8 + v12; v4 = Rotr7(v4 ^ v8);
            v1 = v1 + v5 + m11; v13 = Rotr16(v13 ^ v1); v9 = v9 + v13; v5 = Rotr12(v5 ^ v9);
            v1 = v1 + v5 + m5; v13 = Rotr8(v13 ^ v1); v9 = v9 + v13; v5 = Rotr7(v5 ^ v9);
            v2 = v2 + v6 + m8; v14 = Rotr16(v14 ^ v2); v10 = v10 + v14; v6 = Rotr12(v6 ^ v10);
            v2 = v2 + v6 + m12; v14 = Rotr8(v14 ^ v2); v10 = v10 + v14; v6 = Rotr7(v6 ^ v10);
            v3 = v3 + v7 + m15; v15 = Rotr16(v15 ^ v3); v11 = v11 + v15; v7 = Rotr12(v7 ^ v11);
            v3 = v3 + v7 + m1; v15 = Rotr8(v15 ^ v3); v11 = v11 + v15; v7 = Rotr7(v7 ^ v11);
            v0 = v0 + v5 + m13; v15 = Rotr16(v15 ^ v0); v10 = v10 + v15; v5 = Rotr12(v5 ^ v10);
            v0 = v0 + v5 + m3; v15 = Rotr8(v15 ^ v0); v10 = v10 + v15; v5 = Rotr7(v5 ^ v10);
            v1 = v1 + v6 + m0; v12 = Rotr16(v12 ^ v1); v11 = v11 + v12; v6 = Rotr12(v6 ^ v11);
            v1 = v1 + v6 + m10; v12 = Rotr8(v12 ^ v1); v11 = v11 + v12; v6 = Rotr7(v6 ^ v11);
            v2 = v2 + v7 + m2; v13 = Rotr16(v13 ^ v2); v8 = v8 + v13; v7 = Rotr12(v7 ^ v8);
            v2 = v2 + v7 + m6; v13 = Rotr8(v13 ^ v2); v8 = v8 + v13; v7 = Rotr7(v7 ^ v8);
            v3 = v3 + v4 + m4; v14 = Rotr16(v14 ^ v3); v9 = v9 + v14; v4 = Rotr12(v4 ^ v9);
            v3 = v3 + v4 + m7; v14 = Rotr8(v14 ^ v3); v9 = v9 + v14; v4 = Rotr7(v4 ^ v9);
            // round 6
            v0 = v0 + v4 + m11; v12 = Rotr16(v12 ^ v0); v8 = v8 + v12; v4 = Rotr12(v4 ^ v8);
            v0 = v0 + v4 + m15; v12 = Rotr8(v12 ^ v0); v8 = v8 + v12; v4 = Rotr7(v4 ^ v8);
            v1 = v1 + v5 + m5; v13 = Rotr16(v13 ^ v1); v9 = v9 + v13; v5 = Rotr12(v5 ^ v9);
            v1 = v1 + v5 + m0; v13 = Rotr8(v13 ^ v1); v9 = v9 + v13; v5 = Rotr7(v5 ^ v9);
            v2 = v2 + v6 + m1; v14 = Rotr16(v14 ^ v2); v10 = v10 + v14; v6 = Rotr12(v6 ^ v10);
            v2 = v2 + v6 + m9; v14 = Rotr8(v14 ^ v2); v10 = v10 + v14; v6 = Rotr7(v6 ^ v10);
            v3 = v3 + v7 + m8; v15 = Rotr16(v15 ^ v3); v11 = v11 + v15; v7 = Rotr12(v7 ^ v11);
            v3 = v3 + v7 + m6; v15 = Rotr8(v15 ^ v3); v11 = v11 + v15; v7 = Rotr7(v7 ^ v11);
            v0 = v0 + v5 + m14; v15 = Rotr16(v15 ^ v0); v10 = v10 + v15; v5 = Rotr12(v5 ^ v10);
            v0 = v0 + v5 + m10; v15 = Rotr8(v15 ^ v0); v10 = v10 + v15; v5 = Rotr7(v5 ^ v10);
            v1 = v1 + v6 + m2; v12 = Rotr16(v12 ^ v1); v11 = v11 + v12; v6 = Rotr12(v6 ^ v11);
            v1 = v1 + v6 + m12; v12 = Rotr8(v12 ^ v1); v11 = v11 + v12; v6 = Rotr7(v6 ^ v11);
            v2 = v2 + v7 + m3; v13 = Rotr16(v13 ^ v2); v8 = v8 + v13; v7 = Rotr12(v7 ^ v8);
            v2 = v2 + v7 + m4; v13 = Rotr8(v13 ^ v2); v8 = v8 + v13; v7 = Rotr7(v7 ^ v8);
            v3 = v3 + v4 + m7; v14 = Rotr16(v14 ^ v3); v9 = v9 + v14; v4 = Rotr12(v4 ^ v9);
            v3 = v3 + v4 + m13; v14 = Rotr8(v14 ^ v3); v9 = v9 + v14; v4 = Rotr7(v4 ^ v9);
            h0 = v0 ^ v8; h1 = v1 ^ v9; h2 = v2 ^ v10; h3 = v3 ^ v11;
            h4 = v4 ^ v12; h5 = v5 ^ v13; h6 = v6 ^ v14; h7 = v7 ^ v15;
        }
        Transpose4(ref h0, ref h1, ref h2, ref h3);
        Transpose4(ref h4, ref h5, ref h6, ref h7);
        h0.Store((uint*)output); h4.Store((uint*)(output + 16));
        h1.Store((uint*)(output + 32)); h5.Store((uint*)(output + 48));
        h2.Store((uint*)(output + 64)); h6.Store((uint*)(output + 80));
        h3.Store((uint*)(output + 96)); h7.Store((uint*)(output + 112));
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Transpose4(ref Vector128<uint> r0, ref Vector128<uint> r1, ref Vector128<uint> r2, ref Vector128<uint> r3)
    {
        if (Sse2.IsSupported)
        {
            var t0 = Sse2.UnpackLow(r0, r1); var t1 = Sse2.UnpackHigh(r0, r1);
            var t2 = Sse2.UnpackLow(r2, r3); var t3 = Sse2.UnpackHigh(r2, r3);
            r0 = Sse2.UnpackLow(t0.AsUInt64(), t2.AsUInt64()).AsUInt32(); r1 = Sse2.UnpackHigh(t0.AsUInt64(), t2.AsUInt64()).AsUInt32();
            r2 = Sse2.UnpackLow(t1.AsUInt64(), t3.AsUInt64()).AsUInt32(); r3 = Sse2.UnpackHigh(t1.AsUInt64(), t3.AsUInt64()).AsUInt32();
            return;
        }
        var a = r0; var b = r1; var c = r2; var d = r3;
        r0 = Vector128.Create(a.GetElement(0), b.GetElement(0), c.GetElement(0), d.GetElement(0));
        r1 = Vector128.Create(a.GetElement(1), b.GetElement(1), c.GetElement(1), d.GetElement(1));
        r2 = Vector128.Create(a.GetElement(2), b.GetElement(2), c.GetElement(2), d.GetElement(2));
        r3 = Vector128.Create(a.GetElement(3), b.GetElement(3), c.GetElement(3), d.GetElement(3));
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector128<uint> Rotr16(Vector128<uint> x) => Avx512F.VL.IsSupported ? Avx512F.VL.RotateRight(x, 16)
        : Ssse3.IsSupported ? Ssse3.Shuffle(x.AsByte(), Vector128.Create((byte)2, 3, 0, 1, 6, 7, 4, 5, 10, 11, 8, 9, 14, 15, 12, 13)).AsUInt32()
        : Vector128.ShiftRightLogical(x, 16) | Vector128.ShiftLeft(x, 16);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector128<uint> Rotr8(Vector128<uint> x) => Avx512F.VL.IsSupported ? Avx512F.VL.RotateRight(x, 8)
        : Ssse3.IsSupported ? Ssse3.Shuffle(x.AsByte(), Vector128.Create((byte)1, 2, 3, 0, 5, 6, 7, 4, 9, 10, 11, 8, 13, 14, 15, 12)).AsUInt32()
        : Vector128.ShiftRightLogical(x, 8) | Vector128.ShiftLeft(x, 24);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector128<uint> Rotr12(Vector128<uint> x) => Avx512F.VL.IsSupported ? Avx512F.VL.RotateRight(x, 12)
        : Vector128.ShiftRightLogical(x, 12) | Vector128.ShiftLeft(x, 20);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector128<uint> Rotr7(Vector128<uint> x) => Avx512F.VL.IsSupported ? Avx512F.VL.RotateRight(x, 7)
        : Vector128.ShiftRightLogical(x, 7) | Vector128.ShiftLeft(x, 25);
#else
    private static int SimdDegree() => 1;

    private static unsafe int HashManyChunks(uint* key, uint flags, byte* input, int fullChunks, int lanes, byte* cvs) => 0;

    private static unsafe int HashManyParents(uint* key, uint flags, byte* cvs, int pairs, int lanes) => 0;
#endif
}
