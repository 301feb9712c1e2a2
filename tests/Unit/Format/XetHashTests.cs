using System;
using System.Linq;
using XetPs.Format;

namespace XetPs.Tests.Format;

/// <summary>§5.5: the hash string form with its per-u64 little-endian quirk, parsing, equality and modulo.</summary>
public class XetHashTests
{
    private static readonly byte[] QuirkRaw =
        { 22, 175, 58, 132, 4, 75, 131, 214, 190, 153, 138, 66, 226, 3, 153, 242, 204, 86, 80, 234, 249, 153, 80, 99, 159, 80, 65, 138, 236, 231, 149, 78 };
    private const string QuirkText = "d6834b04843aaf16f29903e2428a99be635099f9ea5056cc4e95e7ec8a41509f";
    private const string CountingText = "07060504030201000f0e0d0c0b0a090817161514131211101f1e1d1c1b1a1918";

    [Fact]
    public void String_form_prints_each_u64_word_little_endian()
    {
        Assert.Equal(QuirkText, new XetHash(QuirkRaw).ToString());
    }

    [Fact]
    public void String_form_of_bytes_0_to_31_is_the_corrected_spec_example()
    {
        var raw = Enumerable.Range(0, 32).Select(i => (byte)i).ToArray();
        Assert.Equal(CountingText, new XetHash(raw).ToString());
    }

    [Fact]
    public void Spec_example_with_the_dropped_10_byte_is_62_characters_and_rejected()
    {
        // The spec prints "...0908171615141312111f1e1d..." (the "10" byte is missing): PROTOCOL.md §9 item 3.
        const string typo = "07060504030201000f0e0d0c0b0a0908171615141312111f1e1d1c1b1a1918";
        Assert.Equal(62, typo.Length);
        Assert.False(XetHash.TryParse(typo, out _));
    }

    [Fact]
    public void Parse_writes_each_word_back_little_endian()
    {
        Assert.Equal(QuirkRaw, XetHash.Parse(QuirkText).ToArray());
        Assert.Equal(Enumerable.Range(0, 32).Select(i => (byte)i).ToArray(), XetHash.Parse(CountingText).ToArray());
    }

    [Fact]
    public void Parse_accepts_uppercase_hex()
    {
        Assert.Equal(XetHash.Parse(QuirkText), XetHash.Parse(QuirkText.ToUpperInvariant()));
    }

    [Theory]
    [InlineData("")]
    [InlineData("d6834b04843aaf16f29903e2428a99be635099f9ea5056cc4e95e7ec8a41509")]   // 63
    [InlineData("d6834b04843aaf16f29903e2428a99be635099f9ea5056cc4e95e7ec8a41509f0")] // 65
    [InlineData("g6834b04843aaf16f29903e2428a99be635099f9ea5056cc4e95e7ec8a41509f")]  // non-hex
    [InlineData(" d6834b04843aaf16f29903e2428a99be635099f9ea5056cc4e95e7ec8a41509")]  // leading space
    [InlineData("0x834b04843aaf16f29903e2428a99be635099f9ea5056cc4e95e7ec8a41509f")]  // prefix
    public void Parse_rejects_text_that_is_not_64_hex_digits_and_names_it(string text)
    {
        Assert.False(XetHash.TryParse(text, out var hash));
        Assert.Equal(XetHash.Zero, hash);
        var ex = Assert.Throws<FormatException>(() => XetHash.Parse(text));
        Assert.Contains($"'{text}'", ex.Message);
    }

    [Fact]
    public void TryParse_rejects_null_and_Parse_throws_ArgumentNullException()
    {
        Assert.False(XetHash.TryParse(null, out _));
        Assert.Throws<ArgumentNullException>(() => XetHash.Parse(null!));
    }

    [Theory]
    [InlineData(0)]
    [InlineData(31)]
    [InlineData(33)]
    public void Constructor_requires_exactly_32_bytes(int length)
    {
        Assert.Throws<ArgumentException>(() => new XetHash(new byte[length]));
    }

    [Fact]
    public void CopyTo_rejects_a_short_destination()
    {
        Assert.Throws<ArgumentException>(() => XetHash.Parse(QuirkText).CopyTo(new byte[31]));
    }

    [Fact]
    public void Equal_hashes_compare_equal_and_share_a_hash_code()
    {
        var a = XetHash.Parse(QuirkText);
        var b = new XetHash(QuirkRaw);
        Assert.True(a == b);
        Assert.False(a != b);
        Assert.True(a.Equals((object)b));
        Assert.Equal(a.GetHashCode(), b.GetHashCode());
        var raw = (byte[])QuirkRaw.Clone();
        raw[31] ^= 1;
        Assert.NotEqual(a, new XetHash(raw));
        Assert.Equal(new XetHash(new byte[32]), XetHash.Zero);
    }

    [Fact]
    public void Equality_and_hash_code_do_not_allocate()
    {
        var a = XetHash.Parse(QuirkText);
        var b = XetHash.Parse(QuirkText);
        a.Equals(b); a.GetHashCode(); // warm up (JIT)
        long before = GC.GetAllocatedBytesForCurrentThread();
        bool equal = true;
        int h = 0;
        for (int i = 0; i < 100; i++) { equal &= a == b && a.Equals(b); h ^= a.GetHashCode(); }
        long after = GC.GetAllocatedBytesForCurrentThread();
        Assert.True(equal);
        Assert.Equal(0, after - before);
        Assert.Equal(0, h); // an even number of identical XORs
    }

    [Fact]
    public void Modulo_reads_the_last_8_raw_bytes_as_little_endian_u64()
    {
        var raw = new byte[32];
        raw[24] = 0x07; raw[25] = 0x01; // last word = 0x0107 = 263
        raw[0] = 0xFF;                   // the other words do not count
        var hash = new XetHash(raw);
        Assert.Equal(263UL % 4, hash.Modulo(4));
        Assert.Equal(263UL % 10, hash.Modulo(10));
        Assert.Equal(263UL, hash.Modulo(ulong.MaxValue));
        Assert.Throws<ArgumentOutOfRangeException>(() => hash.Modulo(0));
    }
}
