using System;
using System.Collections.Generic;
using System.Globalization;
using System.IO;
using System.Linq;
using XetPs.Format;

namespace XetPs.Tests.Format;

public class GearChunkerTests
{
    private static List<int> Ends(IEnumerable<int> lengths)
    {
        var ends = new List<int>();
        int total = 0;
        foreach (int l in lengths)
            ends.Add(total += l);
        return ends;
    }

    /// <summary>Feeds <paramref name="data"/> in blocks whose sizes come from <paramref name="blockSize"/>.</summary>
    private static List<int> ChunkInBlocks(byte[] data, Func<int> blockSize)
    {
        var lengths = new List<int>();
        var chunker = new GearChunker();
        long chunkStart = 0, fed = 0;
        int pos = 0;
        while (pos < data.Length)
        {
            int size = Math.Min(blockSize(), data.Length - pos);
            var block = data.AsSpan(pos, size);
            int offset = 0;
            while (offset < block.Length)
            {
                int cut = chunker.NextBoundary(block.Slice(offset));
                if (cut < 0)
                    break;
                offset += cut;
                long end = pos + offset;
                lengths.Add((int)(end - chunkStart));
                chunkStart = end;
            }
            pos += size;
            fed += size;
        }
        Assert.Equal(fed - chunkStart, chunker.PendingBytes);
        if (chunker.PendingBytes > 0)
            lengths.Add((int)chunker.PendingBytes);
        return lengths;
    }

    [Fact]
    public void Gear_table_equals_the_shared_ground_truth_file()
    {
        var expected = File.ReadAllLines(FormatTestData.VectorFile("gear_table.txt"))
            .Where(l => l.Trim().Length > 0)
            .Select(l => ulong.Parse(l.Trim().Replace("0x", ""), NumberStyles.HexNumber, CultureInfo.InvariantCulture))
            .ToArray();
        Assert.Equal(256, expected.Length);
        Assert.Equal(expected, GearTable.Values);
    }

    [Fact]
    public void SplitMix_megabyte_gives_the_xet_core_boundaries()
    {
        var data = FormatTestData.SplitMix(1_000_000, 0);
        Assert.Equal(175, data[0]);
        Assert.Equal(132, data[127]);
        Assert.Equal(118, data[111111]);

        int[] expected = [84493, 134421, 144853, 243318, 271793, 336457, 467529, 494581, 582000, 596735, 616815,
                          653164, 678202, 724510, 815591, 827760, 958832, 991092, 1000000];
        Assert.Equal(expected, Ends(GearChunker.ChunkLengths(data)));
    }

    [Fact]
    public void Constant_data_is_cut_at_exactly_the_maximum_chunk_size()
    {
        var data = Enumerable.Repeat((byte)59, 1_000_000).ToArray();
        int[] expected = [131072, 262144, 393216, 524288, 655360, 786432, 917504, 1000000];
        Assert.Equal(expected, Ends(GearChunker.ChunkLengths(data)));
    }

    [Fact]
    public void All_128_hitting_patterns_give_the_xet_core_boundaries()
    {
        var lines = File.ReadAllLines(FormatTestData.VectorFile("chunking_hitting_data.txt"))
            .Where(l => !l.StartsWith('#')).ToList();
        byte[] pattern = lines[0].Split(' ')[1].Split(',').Select(byte.Parse).ToArray();
        Assert.Equal(128, pattern.Length);
        var cases = lines.Skip(1).ToList();
        Assert.Equal(128, cases.Count);
        foreach (string line in cases)
        {
            var fields = line.Split(' ');
            int padding = int.Parse(fields[0], CultureInfo.InvariantCulture);
            byte sample = byte.Parse(fields[1], CultureInfo.InvariantCulture);
            int[] expected = fields[2].Split(',').Select(int.Parse).ToArray();

            var unit = pattern.Concat(new byte[padding]).ToArray();
            var data = new byte[65536];
            for (int i = 0; i < data.Length; i++)
                data[i] = unit[i % unit.Length];
            Assert.True(sample == data[11111], $"padding {padding}: input differs from xet-core's at byte 11111");
            Assert.True(expected.SequenceEqual(Ends(GearChunker.ChunkLengths(data))),
                        $"padding {padding}: boundaries {string.Join(",", Ends(GearChunker.ChunkLengths(data)))}");
        }
    }

    [Theory]
    [InlineData(1)]
    [InlineData(37)]
    [InlineData(255)]
    [InlineData(8191)]
    [InlineData(131073)]
    public void Any_fixed_block_size_gives_the_same_boundaries(int blockSize)
    {
        var data = FormatTestData.SplitMix(600_000, 1);
        Assert.Equal(GearChunker.ChunkLengths(data), ChunkInBlocks(data, () => blockSize));
    }

    [Fact]
    public void Random_block_sizes_give_the_same_boundaries()
    {
        var data = FormatTestData.SplitMix(1_000_000, 7);
        var random = new Random(12345);
        Assert.Equal(GearChunker.ChunkLengths(data), ChunkInBlocks(data, () => random.Next(1, 20000)));
    }

    [Fact]
    public void Streaming_matches_a_byte_by_byte_reference_of_the_boundary_rule()
    {
        // The §4 rule written as plainly as possible, without the skip-ahead.
        var data = FormatTestData.SplitMix(700_000, 3);
        var expected = new List<int>();
        ulong h = 0;
        int start = 0;
        for (int i = 0; i < data.Length; i++)
        {
            h = (h << 1) + GearTable.Values[data[i]];
            int size = i + 1 - start;
            if (size >= GearChunker.MinChunk && (size >= GearChunker.MaxChunk || (h & 0xFFFF000000000000UL) == 0))
            {
                expected.Add(size);
                h = 0;
                start = i + 1;
            }
        }
        if (start < data.Length)
            expected.Add(data.Length - start);
        Assert.Equal(expected, GearChunker.ChunkLengths(data));
        Assert.Equal(expected, ChunkInBlocks(data, () => 4097));
    }

    [Fact]
    public void A_file_shorter_than_the_minimum_is_one_chunk()
    {
        var data = FormatTestData.SplitMix(GearChunker.MinChunk - 1, 5);
        Assert.Equal([GearChunker.MinChunk - 1], GearChunker.ChunkLengths(data));
        var chunker = new GearChunker();
        Assert.Equal(-1, chunker.NextBoundary(data));
        Assert.Equal(data.Length, chunker.PendingBytes);
    }

    [Fact]
    public void Empty_input_gives_no_chunk()
    {
        Assert.Empty(GearChunker.ChunkLengths(ReadOnlySpan<byte>.Empty));
        var chunker = new GearChunker();
        Assert.Equal(-1, chunker.NextBoundary(ReadOnlySpan<byte>.Empty));
        Assert.Equal(0, chunker.PendingBytes);
    }

    [Fact]
    public void Reset_forgets_the_partial_chunk()
    {
        var data = FormatTestData.SplitMix(300_000, 9);
        var chunker = new GearChunker();
        Assert.Equal(-1, chunker.NextBoundary(FormatTestData.SplitMix(5000, 10)));
        chunker.Reset();
        Assert.Equal(0, chunker.PendingBytes);
        Assert.Equal(GearChunker.ChunkLengths(data)[0], chunker.NextBoundary(data));
    }
}
