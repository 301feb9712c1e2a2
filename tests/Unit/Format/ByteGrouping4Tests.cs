using System;
using System.Linq;
using XetPs.Format;

namespace XetPs.Tests.Format;

public class ByteGrouping4Tests
{
    /// <summary>§3.3 written as in the spec: d[0::4] + d[1::4] + d[2::4] + d[3::4].</summary>
    private static byte[] SplitBySpec(byte[] data) =>
        Enumerable.Range(0, 4).SelectMany(g => data.Where((_, i) => i % 4 == g)).ToArray();

    [Fact]
    public void Split_of_zero_to_nine_matches_the_spec_example()
    {
        byte[] data = Enumerable.Range(0, 10).Select(i => (byte)i).ToArray();
        var split = new byte[10];
        ByteGrouping4.Split(data, split);
        Assert.Equal(new byte[] { 0, 4, 8, 1, 5, 9, 2, 6, 3, 7 }, split);
        var back = new byte[10];
        ByteGrouping4.Regroup(split, back);
        Assert.Equal(data, back);
    }

    [Fact]
    public void Split_and_regroup_match_the_spec_for_every_length_up_to_300()
    {
        for (int n = 0; n <= 300; n++)
        {
            byte[] data = FormatTestData.Random(n, n);
            byte[] expected = SplitBySpec(data);
            var split = new byte[n];
            ByteGrouping4.Split(data, split);
            Assert.True(expected.SequenceEqual(split), $"split differs at length {n}");
            var back = new byte[n];
            ByteGrouping4.Regroup(split, back);
            Assert.True(data.SequenceEqual(back), $"regroup differs at length {n}");
        }
    }

    [Fact]
    public void Vector_paths_equal_the_scalar_reference_on_large_random_lengths()
    {
        var random = new Random(2024);
        for (int round = 0; round < 20; round++)
        {
            int n = random.Next(300, 140_000);
            byte[] data = FormatTestData.Random(n, round);
            var fast = new byte[n];
            var reference = new byte[n];
            ByteGrouping4.Split(data, fast);
            ByteGrouping4.SplitReference(data, reference);
            Assert.True(reference.SequenceEqual(fast), $"split differs at length {n}");
            Assert.True(SplitBySpec(data).SequenceEqual(fast), $"split differs from the spec at length {n}");
            var back = new byte[n];
            ByteGrouping4.Regroup(fast, back);
            ByteGrouping4.RegroupReference(fast, reference);
            Assert.True(reference.SequenceEqual(back), $"regroup differs at length {n}");
            Assert.True(data.SequenceEqual(back), $"round trip differs at length {n}");
        }
    }

    [Fact]
    public void Mismatched_lengths_are_rejected()
    {
        Assert.Throws<ArgumentException>(() => ByteGrouping4.Split(new byte[8], new byte[7]));
        Assert.Throws<ArgumentException>(() => ByteGrouping4.Regroup(new byte[8], new byte[9]));
    }
}
