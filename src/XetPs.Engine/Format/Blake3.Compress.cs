using System.Runtime.CompilerServices;

namespace XetPs.Format;

// The BLAKE3 compression function, one block at a time: the portable path and the reference the SIMD path is
// tested against. The seven rounds are unrolled with the message schedule written out, so no permutation runs.
public static partial class Blake3
{
    /// <summary>Compresses one block and writes the 8-word chaining value; <paramref name="outCv"/> may alias <paramref name="cv"/>.</summary>
    internal static unsafe void Compress(uint* cv, uint* m, ulong counter, uint blockLen, uint flags, uint* outCv)
    {
        uint* v = stackalloc uint[16];
        Rounds(cv, m, counter, blockLen, flags, v);
        for (int i = 0; i < 8; i++) outCv[i] = v[i] ^ v[i + 8];
    }

    /// <summary>Compresses one block and writes all 16 output words, as the root does for extended output.</summary>
    internal static unsafe void CompressXof(uint* cv, uint* m, ulong counter, uint blockLen, uint flags, uint* output)
    {
        uint* v = stackalloc uint[16];
        Rounds(cv, m, counter, blockLen, flags, v);
        for (int i = 0; i < 8; i++)
        {
            output[i] = v[i] ^ v[i + 8];
            output[i + 8] = v[i + 8] ^ cv[i];
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static uint Rotr(uint x, int n) => (x >> n) | (x << (32 - n));

#if NET8_0_OR_GREATER
    // The scalar compression is hot too (parents, tails): skip its slow tier-0 body, as for the SIMD kernels.
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
#endif
    private static unsafe void Rounds(uint* cv, uint* m, ulong counter, uint blockLen, uint flags, uint* state)
    {
        uint m0 = m[0], m1 = m[1], m2 = m[2], m3 = m[3], m4 = m[4], m5 = m[5], m6 = m[6], m7 = m[7];
        uint m8 = m[8], m9 = m[9], m10 = m[10], m11 = m[11], m12 = m[12], m13 = m[13], m14 = m[14], m15 = m[15];
        uint v0 = cv[0], v1 = cv[1], v2 = cv[2], v3 = cv[3], v4 = cv[4], v5 = cv[5], v6 = cv[6], v7 = cv[7];
        uint v8 = 0x6A09E667, v9 = 0xBB67AE85, v10 = 0x3C6EF372, v11 = 0xA54FF53A;
        uint v12 = (uint)counter, v13 = (uint)(counter >> 32), v14 = blockLen, v15 = flags;
        // round 0
        v0 = v0 + v4 + m0; v12 = Rotr(v12 ^ v0, 16); v8 = v8 + v12; v4 = Rotr(v4 ^ v8, 12);
        v0 = v0 + v4 + m1; v12 = Rotr(v12 ^ v0, 8); v8 = v8 + v12; v4 = Rotr(v4 ^ v8, 7);
        v1 = v1 + v5 + m2; v13 = Rotr(v13 ^ v1, 16); v9 = v9 + v13; v5 = Rotr(v5 ^ v9, 12);
        v1 = v1 + v5 + m3; v13 = Rotr(v13 ^ v1, 8); v9 = v9 + v13; v5 = Rotr(v5 ^ v9, 7);
        v2 = v2 + v6 + m4; v14 = Rotr(v14 ^ v2, 16); v10 = v10 + v14; v6 = Rotr(v6 ^ v10, 12);
        v2 = v2 + v6 + m5; v14 = Rotr(v14 ^ v2, 8); v10 = v10 + v14; v6 = Rotr(v6 ^ v10, 7);
        v3 = v3 + v7 + m6; v15 = Rotr(v15 ^ v3, 16); v11 = v11 + v15; v7 = Rotr(v7 ^ v11, 12);
        v3 = v3 + v7 + m7; v15 = Rotr(v15 ^ v3, 8); v11 = v11 + v15; v7 = Rotr(v7 ^ v11, 7);
        v0 = v0 + v5 + m8; v15 = Rotr(v15 ^ v0, 16); v10 = v10 + v15; v5 = Rotr(v5 ^ v10, 12);
        v0 = v0 + v5 + m9; v15 = Rotr(v15 ^ v0, 8); v10 = v10 + v15; v5 = Rotr(v5 ^ v10, 7);
        v1 = v1 + v6 + m10; v12 = Rotr(v12 ^ v1, 16); v11 = v11 + v12; v6 = Rotr(v6 ^ v11, 12);
        v1 = v1 + v6 + m11; v12 = Rotr(v12 ^ v1, 8); v11 = v11 + v12; v6 = Rotr(v6 ^ v11, 7);
        v2 = v2 + v7 + m12; v13 = Rotr(v13 ^ v2, 16); v8 = v8 + v13; v7 = Rotr(v7 ^ v8, 12);
        v2 = v2 + v7 + m13; v13 = Rotr(v13 ^ v2, 8); v8 = v8 + v13; v7 = Rotr(v7 ^ v8, 7);
        v3 = v3 + v4 + m14; v14 = Rotr(v14 ^ v3, 16); v9 = v9 + v14; v4 = Rotr(v4 ^ v9, 12);
        v3 = v3 + v4 + m15; v14 = Rotr(v14 ^ v3, 8); v9 = v9 + v14; v4 = Rotr(v4 ^ v9, 7);
        // round 1
        v0 = v0 + v4 + m2; v12 = Rotr(v12 ^ v0, 16); v8 = v8 + v12; v4 = Rotr(v4 ^ v8, 12);
        v0 = v0 + v4 + m6; v12 = Rotr(v12 ^ v0, 8); v8 = v8 + v12; v4 = Rotr(v4 ^ v8, 7);
        v1 = v1 + v5 + m3; v13 = Rotr(v13 ^ v1, 16); v9 = v9 + v13; v5 = Rotr(v5 ^ v9, 12);
        v1 = v1 + v5 + m10; v13 = Rotr(v13 ^ v1, 8); v9 = v9 + v13; v5 = Rotr(v5 ^ v9, 7);
        v2 = v2 + v6 + m7; v14 = Rotr(v14 ^ v2, 16); v10 = v10 + v14; v6 = Rotr(v6 ^ v10, 12);
        v2 = v2 + v6 + m0; v14 = Rotr(v14 ^ v2, 8); v10 = v10 + v14; v6 = Rotr(v6 ^ v10, 7);
        v3 = v3 + v7 + m4; v15 = Rotr(v15 ^ v3, 16); v11 = v11 + v15; v7 = Rotr(v7 ^ v11, 12);
        v3 = v3 + v7 + m13; v15 = Rotr(v15 ^ v3, 8); v11 = v11 + v15; v7 = Rotr(v7 ^ v11, 7);
        v0 = v0 + v5 + m1; v15 = Rotr(v15 ^ v0, 16); v10 = v10 + v15; v5 = Rotr(v5 ^ v10, 12);
        v0 = v0 + v5 + m11; v15 = Rotr(v15 ^ v0, 8); v10 = v10 + v15; v5 = Rotr(v5 ^ v10, 7);
        v1 = v1 + v6 + m12; v12 = Rotr(v12 ^ v1, 16); v11 = v11 + v12; v6 = Rotr(v6 ^ v11, 12);
        v1 = v1 + v6 + m5; v12 = Rotr(v12 ^ v1, 8); v11 = v11 + v12; v6 = Rotr(v6 ^ v11, 7);
        v2 = v2 + v7 + m9; v13 = Rotr(v13 ^ v2, 16); v8 = v8 + v13; v7 = Rotr(v7 ^ v8, 12);
        v2 = v2 + v7 + m14; v13 = Rotr(v13 ^ v2, 8); v8 = v8 + v13; v7 = Rotr(v7 ^ v8, 7);
        v3 = v3 + v4 + m15; v14 = Rotr(v14 ^ v3, 16); v9 = v9 + v14; v4 = Rotr(v4 ^ v9, 12);
        v3 = v3 + v4 + m8; v14 = Rotr(v14 ^ v3, 8); v9 = v9 + v14; v4 = Rotr(v4 ^ v9, 7);
        // round 2
        v0 = v0 + v4 + m3; v12 = Rotr(v12 ^ v0, 16); v8 = v8 + v12; v4 = Rotr(v4 ^ v8, 12);
        v0 = v0 + v4 + m4; v12 = Rotr(v12 ^ v0, 8); v8 = v8 + v12; v4 = Rotr(v4 ^ v8, 7);
        v1 = v1 + v5 + m10; v13 = Rotr(v13 ^ v1, 16); v9 = v9 + v13; v5 = Rotr(v5 ^ v9, 12);
        v1 = v1 + v5 + m12; v13 = Rotr(v13 ^ v1, 8); v9 = v9 + v13; v5 = Rotr(v5 ^ v9, 7);
        v2 = v2 + v6 + m13; v14 = Rotr(v14 ^ v2, 16); v10 = v10 + v14; v6 = Rotr(v6 ^ v10, 12);
        v2 = v2 + v6 + m2; v14 = Rotr(v14 ^ v2, 8); v10 = v10 + v14; v6 = Rotr(v6 ^ v10, 7);
        v3 = v3 + v7 + m7; v15 = Rotr(v15 ^ v3, 16); v11 = v11 + v15; v7 = Rotr(v7 ^ v11, 12);
        v3 = v3 + v7 + m14; v15 = Rotr(v15 ^ v3, 8); v11 = v11 + v15; v7 = Rotr(v7 ^ v11, 7);
        v0 = v0 + v5 + m6; v15 = Rotr(v15 ^ v0, 16); v10 = v10 + v15; v5 = Rotr(v5 ^ v10, 12);
        v0 = v0 + v5 + m5; v15 = Rotr(v15 ^ v0, 8); v10 = v10 + v15; v5 = Rotr(v5 ^ v10, 7);
        v1 = v1 + v6 + m9; v12 = Rotr(v12 ^ v1, 16); v11 = v11 + v12; v6 = Rotr(v6 ^ v11, 12);
        v1 = v1 + v6 + m0; v12 = Rotr(v12 ^ v1, 8); v11 = v11 + v12; v6 = Rotr(v6 ^ v11, 7);
        v2 = v2 + v7 + m11; v13 = Rotr(v13 ^ v2, 16); v8 = v8 + v13; v7 = Rotr(v7 ^ v8, 12);
        v2 = v2 + v7 + m15; v13 = Rotr(v13 ^ v2, 8); v8 = v8 + v13; v7 = Rotr(v7 ^ v8, 7);
        v3 = v3 + v4 + m8; v14 = Rotr(v14 ^ v3, 16); v9 = v9 + v14; v4 = Rotr(v4 ^ v9, 12);
        v3 = v3 + v4 + m1; v14 = Rotr(v14 ^ v3, 8); v9 = v9 + v14; v4 = Rotr(v4 ^ v9, 7);
        // round 3
        v0 = v0 + v4 + m10; v12 = Rotr(v12 ^ v0, 16); v8 = v8 + v12; v4 = Rotr(v4 ^ v8, 12);
        v0 = v0 + v4 + m7; v12 = Rotr(v12 ^ v0, 8); v8 = v8 + v12; v4 = Rotr(v4 ^ v8, 7);
        v1 = v1 + v5 + m12; v13 = Rotr(v13 ^ v1, 16); v9 = v9 + v13; v5 = Rotr(v5 ^ v9, 12);
        v1 = v1 + v5 + m9; v13 = Rotr(v13 ^ v1, 8); v9 = v9 + v13; v5 = Rotr(v5 ^ v9, 7);
        v2 = v2 + v6 + m14; v14 = Rotr(v14 ^ v2, 16); v10 = v10 + v14; v6 = Rotr(v6 ^ v10, 12);
        v2 = v2 + v6 + m3; v14 = Rotr(v14 ^ v2, 8); v10 = v10 + v14; v6 = Rotr(v6 ^ v10, 7);
        v3 = v3 + v7 + m13; v15 = Rotr(v15 ^ v3, 16); v11 = v11 + v15; v7 = Rotr(v7 ^ v11, 12);
        v3 = v3 + v7 + m15; v15 = Rotr(v15 ^ v3, 8); v11 = v11 + v15; v7 = Rotr(v7 ^ v11, 7);
        v0 = v0 + v5 + m4; v15 = Rotr(v15 ^ v0, 16); v10 = v10 + v15; v5 = Rotr(v5 ^ v10, 12);
        v0 = v0 + v5 + m0; v15 = Rotr(v15 ^ v0, 8); v10 = v10 + v15; v5 = Rotr(v5 ^ v10, 7);
        v1 = v1 + v6 + m11; v12 = Rotr(v12 ^ v1, 16); v11 = v11 + v12; v6 = Rotr(v6 ^ v11, 12);
        v1 = v1 + v6 + m2; v12 = Rotr(v12 ^ v1, 8); v11 = v11 + v12; v6 = Rotr(v6 ^ v11, 7);
        v2 = v2 + v7 + m5; v13 = Rotr(v13 ^ v2, 16); v8 = v8 + v13; v7 = Rotr(v7 ^ v8, 12);
        v2 = v2 + v7 + m8; v13 = Rotr(v13 ^ v2, 8); v8 = v8 + v13; v7 = Rotr(v7 ^ v8, 7);
        v3 = v3 + v4 + m1; v14 = Rotr(v14 ^ v3, 16); v9 = v9 + v14; v4 = Rotr(v4 ^ v9, 12);
        v3 = v3 + v4 + m6; v14 = Rotr(v14 ^ v3, 8); v9 = v9 + v14; v4 = Rotr(v4 ^ v9, 7);
        // round 4
        v0 = v0 + v4 + m12; v12 = Rotr(v12 ^ v0, 16); v8 = v8 + v12; v4 = Rotr(v4 ^ v8, 12);
        v0 = v0 + v4 + m13; v12 = Rotr(v12 ^ v0, 8); v8 = v8 + v12; v4 = Rotr(v4 ^ v8, 7);
        v1 = v1 + v5 + m9; v13 = Rotr(v13 ^ v1, 16); v9 = v9 + v13; v5 = Rotr(v5 ^ v9, 12);
        v1 = v1 + v5 + m11; v13 = Rotr(v13 ^ v1, 8); v9 = v9 + v13; v5 = Rotr(v5 ^ v9, 7);
        v2 = v2 + v6 + m15; v14 = Rotr(v14 ^ v2, 16); v10 = v10 + v14; v6 = Rotr(v6 ^ v10, 12);
        v2 = v2 + v6 + m10; v14 = Rotr(v14 ^ v2, 8); v10 = v10 + v14; v6 = Rotr(v6 ^ v10, 7);
        v3 = v3 + v7 + m14; v15 = Rotr(v15 ^ v3, 16); v11 = v11 + v15; v7 = Rotr(v7 ^ v11, 12);
        v3 = v3 + v7 + m8; v15 = Rotr(v15 ^ v3, 8); v11 = v11 + v15; v7 = Rotr(v7 ^ v11, 7);
        v0 = v0 + v5 + m7; v15 = Rotr(v15 ^ v0, 16); v10 = v10 + v15; v5 = Rotr(v5 ^ v10, 12);
        v0 = v0 + v5 + m2; v15 = Rotr(v15 ^ v0, 8); v10 = v10 + v15; v5 = Rotr(v5 ^ v10, 7);
        v1 = v1 + v6 + m5; v12 = Rotr(v12 ^ v1, 16); v11 = v11 + v12; v6 = Rotr(v6 ^ v11, 12);
        v1 = v1 + v6 + m3; v12 = Rotr(v12 ^ v1, 8); v11 = v11 + v12; v6 = Rotr(v6 ^ v11, 7);
        v2 = v2 + v7 + m0; v13 = Rotr(v13 ^ v2, 16); v8 = v8 + v13; v7 = Rotr(v7 ^ v8, 12);
        v2 = v2 + v7 + m1; v13 = Rotr(v13 ^ v2, 8); v8 = v8 + v13; v7 = Rotr(v7 ^ v8, 7);
        v3 = v3 + v4 + m6; v14 = Rotr(v14 ^ v3, 16); v9 = v9 + v14; v4 = Rotr(v4 ^ v9, 12);
        v3 = v3 + v4 + m4; v14 = Rotr(v14 ^ v3, 8); v9 = v9 + v14; v4 = Rotr(v4 ^ v9, 7);
        // round 5
        v0 = v0 + v4 + m9; v12 = Rotr(v12 ^ v0, 16); v8 = v8 + v12; v4 = Rotr(v4 ^ v8, 12);
        v0 = v0 + v4 + m14; v12 = Rotr(v12 ^ v0, 8); v8 = v8 + v12; v4 = Rotr(v4 ^ v8, 7);
        v1 = v1 + v5 + m11; v13 = Rotr(v13 ^ v1, 16); v9 = v9 + v13; v5 = Rotr(v5 ^ v9, 12);
        v1 = v1 + v5 + m5; v13 = Rotr(v13 ^ v1, 8); v9 = v9 + v13; v5 = Rotr(v5 ^ v9, 7);
        v2 = v2 + v6 + m8; v14 = Rotr(v14 ^ v2, 16); v10 = v10 + v14; v6 = Rotr(v6 ^ v10, 12);
        v2 = v2 + v6 + m12; v14 = Rotr(v14 ^ v2, 8); v10 = v10 + v14; v6 = Rotr(v6 ^ v10, 7);
        v3 = v3 + v7 + m15; v15 = Rotr(v15 ^ v3, 16); v11 = v11 + v15; v7 = Rotr(v7 ^ v11, 12);
        v3 = v3 + v7 + m1; v15 = Rotr(v15 ^ v3, 8); v11 = v11 + v15; v7 = Rotr(v7 ^ v11, 7);
        v0 = v0 + v5 + m13; v15 = Rotr(v15 ^ v0, 16); v10 = v10 + v15; v5 = Rotr(v5 ^ v10, 12);
        v0 = v0 + v5 + m3; v15 = Rotr(v15 ^ v0, 8); v10 = v10 + v15; v5 = Rotr(v5 ^ v10, 7);
        v1 = v1 + v6 + m0; v12 = Rotr(v12 ^ v1, 16); v11 = v11 + v12; v6 = Rotr(v6 ^ v11, 12);
        v1 = v1 + v6 + m10; v12 = Rotr(v12 ^ v1, 8); v11 = v11 + v12; v6 = Rotr(v6 ^ v11, 7);
        v2 = v2 + v7 + m2; v13 = Rotr(v13 ^ v2, 16); v8 = v8 + v13; v7 = Rotr(v7 ^ v8, 12);
        v2 = v2 + v7 + m6; v13 = Rotr(v13 ^ v2, 8); v8 = v8 + v13; v7 = Rotr(v7 ^ v8, 7);
        v3 = v3 + v4 + m4; v14 = Rotr(v14 ^ v3, 16); v9 = v9 + v14; v4 = Rotr(v4 ^ v9, 12);
        v3 = v3 + v4 + m7; v14 = Rotr(v14 ^ v3, 8); v9 = v9 + v14; v4 = Rotr(v4 ^ v9, 7);
        // round 6
        v0 = v0 + v4 + m11; v12 = Rotr(v12 ^ v0, 16); v8 = v8 + v12; v4 = Rotr(v4 ^ v8, 12);
        v0 = v0 + v4 + m15; v12 = Rotr(v12 ^ v0, 8); v8 = v8 + v12; v4 = Rotr(v4 ^ v8, 7);
        v1 = v1 + v5 + m5; v13 = Rotr(v13 ^ v1, 16); v9 = v9 + v13; v5 = Rotr(v5 ^ v9, 12);
        v1 = v1 + v5 + m0; v13 = Rotr(v13 ^ v1, 8); v9 = v9 + v13; v5 = Rotr(v5 ^ v9, 7);
        v2 = v2 + v6 + m1; v14 = Rotr(v14 ^ v2, 16); v10 = v10 + v14; v6 = Rotr(v6 ^ v10, 12);
        v2 = v2 + v6 + m9; v14 = Rotr(v14 ^ v2, 8); v10 = v10 + v14; v6 = Rotr(v6 ^ v10, 7);
        v3 = v3 + v7 + m8; v15 = Rotr(v15 ^ v3, 16); v11 = v11 + v15; v7 = Rotr(v7 ^ v11, 12);
        v3 = v3 + v7 + m6; v15 = Rotr(v15 ^ v3, 8); v11 = v11 + v15; v7 = Rotr(v7 ^ v11, 7);
        v0 = v0 + v5 + m14; v15 = Rotr(v15 ^ v0, 16); v10 = v10 + v15; v5 = Rotr(v5 ^ v10, 12);
        v0 = v0 + v5 + m10; v15 = Rotr(v15 ^ v0, 8); v10 = v10 + v15; v5 = Rotr(v5 ^ v10, 7);
        v1 = v1 + v6 + m2; v12 = Rotr(v12 ^ v1, 16); v11 = v11 + v12; v6 = Rotr(v6 ^ v11, 12);
        v1 = v1 + v6 + m12; v12 = Rotr(v12 ^ v1, 8); v11 = v11 + v12; v6 = Rotr(v6 ^ v11, 7);
        v2 = v2 + v7 + m3; v13 = Rotr(v13 ^ v2, 16); v8 = v8 + v13; v7 = Rotr(v7 ^ v8, 12);
        v2 = v2 + v7 + m4; v13 = Rotr(v13 ^ v2, 8); v8 = v8 + v13; v7 = Rotr(v7 ^ v8, 7);
        v3 = v3 + v4 + m7; v14 = Rotr(v14 ^ v3, 16); v9 = v9 + v14; v4 = Rotr(v4 ^ v9, 12);
        v3 = v3 + v4 + m13; v14 = Rotr(v14 ^ v3, 8); v9 = v9 + v14; v4 = Rotr(v4 ^ v9, 7);
        state[0] = v0; state[1] = v1; state[2] = v2; state[3] = v3; state[4] = v4; state[5] = v5; state[6] = v6; state[7] = v7;
        state[8] = v8; state[9] = v9; state[10] = v10; state[11] = v11; state[12] = v12; state[13] = v13; state[14] = v14; state[15] = v15;
    }
}
