using System;
using System.Collections.Generic;
using System.Linq;
using System.Text;
using XetPs.Format;

namespace XetPs.Tests.Format;

/// <summary>BLAKE3 against the official test vectors, on the SIMD path (when present) and the scalar path.</summary>
public class Blake3Tests
{
    public static IEnumerable<object[]> Cases() =>
        FormatVectors.Blake3.GetProperty("cases").EnumerateArray()
            .SelectMany(c => new[] { new object[] { c.GetProperty("input_len").GetInt32(), false }, new object[] { c.GetProperty("input_len").GetInt32(), true } });

    private static byte[] VectorKey => Encoding.ASCII.GetBytes(FormatVectors.Blake3.GetProperty("key").GetString()!);

    [Theory]
    [MemberData(nameof(Cases))]
    public void Hash_extended_output_matches_vector(int inputLength, bool forceScalar)
    {
        string expected = FormatVectors.Blake3Case(inputLength).GetProperty("hash").GetString()!;
        var output = new byte[expected.Length / 2];
        Blake3.Hash(FormatVectors.Blake3Input(inputLength), output, forceScalar);
        Assert.Equal(expected, Convert.ToHexStringLower(output));
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void Keyed_hash_extended_output_matches_vector(int inputLength, bool forceScalar)
    {
        string expected = FormatVectors.Blake3Case(inputLength).GetProperty("keyed_hash").GetString()!;
        var output = new byte[expected.Length / 2];
        Blake3.KeyedHash(VectorKey, FormatVectors.Blake3Input(inputLength), output, forceScalar);
        Assert.Equal(expected, Convert.ToHexStringLower(output));
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void Default_length_output_is_the_first_32_bytes_of_the_vector(int inputLength, bool forceScalar)
    {
        var c = FormatVectors.Blake3Case(inputLength);
        var input = FormatVectors.Blake3Input(inputLength);
        var hash = new byte[32];
        var keyed = new byte[32];
        Blake3.Hash(input, hash, forceScalar);
        Blake3.KeyedHash(VectorKey, input, keyed, forceScalar);
        Assert.Equal(c.GetProperty("hash").GetString()![..64], Convert.ToHexStringLower(hash));
        Assert.Equal(c.GetProperty("keyed_hash").GetString()![..64], Convert.ToHexStringLower(keyed));
        // The XetHash-returning overloads hold the same raw bytes.
        if (!forceScalar)
        {
            Assert.Equal(hash, Blake3.Hash(input).ToArray());
            Assert.Equal(keyed, Blake3.KeyedHash(VectorKey, input).ToArray());
        }
    }

    public static IEnumerable<object[]> NarrowerPaths() =>
        new[] { 16, 8, 4 }.Where(l => l <= Blake3.SimdLanes).Select(l => new object[] { l })
            .DefaultIfEmpty(new object[] { 1 });

    [Theory]
    [MemberData(nameof(NarrowerPaths))]
    public void Each_simd_width_agrees_with_the_scalar_path_on_lengths_around_every_lane_and_tree_boundary(int lanes)
    {
        var rng = new Random(20261124);
        var data = new byte[70 * 1024 + 100];
        rng.NextBytes(data);
        var key = new byte[32];
        rng.NextBytes(key);
        // Lengths around 1..17 chunks hit 4- and 8-lane groups with every tail, plus larger odd trees.
        var lengths = new List<int>();
        for (int chunks = 0; chunks <= 33; chunks++)
            lengths.AddRange(new[] { chunks * 1024 - 1, chunks * 1024, chunks * 1024 + 1, chunks * 1024 + 64 });
        lengths.AddRange(new[] { 31 * 1024 + 5, 33 * 1024, 64 * 1024, 64 * 1024 + 7, 70 * 1024 + 100 });
        foreach (int length in lengths.Where(l => l >= 0))
        {
            var input = data.AsSpan(0, length);
            var simd = new byte[80];
            var scalar = new byte[80];
            Blake3.KeyedHash(key, input, simd, lanes);
            Blake3.KeyedHash(key, input, scalar, forceScalar: true);
            Assert.True(simd.AsSpan().SequenceEqual(scalar), $"keyed hash differs from scalar with {lanes} lanes at length {length}");
            Blake3.Hash(input, simd, lanes);
            Blake3.Hash(input, scalar, forceScalar: true);
            Assert.True(simd.AsSpan().SequenceEqual(scalar), $"hash differs from scalar with {lanes} lanes at length {length}");
        }
    }

    [Fact]
    public void Simd_path_is_active_on_this_machine_when_vectors_are_accelerated()
    {
        // Guards the SIMD tests above from silently testing the scalar path twice.
        if (System.Runtime.Intrinsics.Vector128.IsHardwareAccelerated)
            Assert.True(Blake3.SimdLanes >= 4, $"SimdLanes is {Blake3.SimdLanes} although Vector128 is accelerated");
        else
            Assert.Equal(1, Blake3.SimdLanes);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(31)]
    [InlineData(33)]
    public void Keyed_hash_rejects_a_key_that_is_not_32_bytes(int keyLength)
    {
        var ex = Assert.Throws<ArgumentException>(() => Blake3.KeyedHash(new byte[keyLength], new byte[10]));
        Assert.Contains(keyLength.ToString(), ex.Message);
    }
}
